package org.memwall.server;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A separate process that opens connections to a server and leaves them idle, so that a test can
 * hold more of them than one process's file-descriptor limit allows for both ends. Prints
 * {@code opened N SECONDS}, then waits for the server to close each one and prints
 * {@code closed N SECONDS} (seconds since the last was opened; N counts those closed within 60 s).
 */
public final class IdleConnections {
    private IdleConnections() {
    }

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        int count = Integer.parseInt(args[1]);
        long t0 = System.nanoTime();
        List<Socket> sockets = Collections.synchronizedList(new ArrayList<>(count));
        try (ExecutorService connectors = Executors.newFixedThreadPool(8)) { // the server accepts faster than one client connects
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                all.add(connectors.submit(() -> sockets.add(new Socket("127.0.0.1", port))));
            }
            for (Future<?> f : all) {
                f.get();
            }
        } catch (InterruptedException | ExecutionException e) {
            throw new IOException("could not open " + count + " connections", e);
        }
        long opened = System.nanoTime();
        System.out.printf(Locale.ROOT, "opened %d %.2f%n", count, (opened - t0) / 1e9);
        System.out.flush();
        int closed = 0;
        for (Socket s : sockets) {
            long left = 60_000 - (System.nanoTime() - opened) / 1_000_000;
            if (left <= 0) {
                break;
            }
            s.setSoTimeout((int) left);
            try {
                if (s.getInputStream().read() < 0) {
                    closed++;
                }
            } catch (java.net.SocketTimeoutException e) {
                break;
            } catch (IOException reset) {
                closed++;
            }
        }
        System.out.printf(Locale.ROOT, "closed %d %.2f%n", closed, (System.nanoTime() - opened) / 1e9);
    }
}
