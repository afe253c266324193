package org.memwall.server;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Cuts a response whose client has stopped taking bytes. The engine never waits for a client (its
 * tokens go to a per-sequence queue), but the exchange's thread does, and it holds an admission
 * permit until the last byte is written: a few clients reading a long stream at a byte a second
 * would hold every permit for hours and everyone else would get 429. So a write (or flush, or the
 * closing chunk) blocked for longer than the limit, the kernel's send and receive buffers full, has
 * its thread interrupted; that closes the connection (the JDK's socket channels are interruptible)
 * and the handler sees an {@link IOException}, as for a vanished client, and cancels the sequence.
 * The status line and headers are watched too: on a kept-alive connection whose client sends
 * requests without reading the answers, they are what blocks first.
 */
final class WriteStallCutoff implements AutoCloseable {
    private final long limitNanos;
    private final Set<Guarded> writing = ConcurrentHashMap.newKeySet();
    private final Thread watcher;

    WriteStallCutoff(long limitMillis) {
        this.limitNanos = TimeUnit.MILLISECONDS.toNanos(limitMillis);
        long tick = Math.clamp(limitMillis / 4, 10, 1000);
        this.watcher = Thread.ofVirtual().name("memwall-write-stall").start(() -> {
            try {
                while (true) {
                    Thread.sleep(tick);
                    long now = System.nanoTime();
                    for (Guarded g : writing) {
                        g.cutIfStalled(now);
                    }
                }
            } catch (InterruptedException e) {
                // closed
            }
        });
    }

    /** A filter giving each exchange a response stream, and headers, that are watched while they are written. */
    Filter filter() {
        return new Filter() {
            @Override
            public void doFilter(HttpExchange ex, Chain chain) throws IOException {
                ex.getRequestBody(); // the exchange sets up its streams on first use; setStreams expects them
                Guarded out = new Guarded(ex.getResponseBody());
                ex.setStreams(null, out);
                chain.doFilter(new WatchedExchange(ex, out));
            }

            @Override
            public String description() {
                return "cuts responses whose client stopped reading";
            }
        };
    }

    @Override
    public void close() {
        watcher.interrupt();
    }

    /** The server's own exchange behind the one handlers get from {@link #filter()}. */
    static HttpExchange unwrap(HttpExchange ex) {
        return ex instanceof WatchedExchange w ? w.ex : ex;
    }

    /** A response stream that registers itself with the watcher for the duration of each blocking call. */
    private final class Guarded extends OutputStream {
        private final OutputStream out;
        private Thread thread;
        /** When the current write began; 0 when none is under way. Guarded by this. */
        private long since;
        private boolean cut;

        Guarded(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            watched(() -> out.write(b, off, len));
        }

        @Override
        public void flush() throws IOException {
            watched(out::flush);
        }

        @Override
        public void close() throws IOException {
            watched(out::close);
        }

        void watched(Write write) throws IOException {
            begin();
            try {
                write.run();
            } finally {
                end();
            }
        }

        private synchronized void begin() throws IOException {
            if (cut) {
                throw stalled();
            }
            thread = Thread.currentThread();
            since = System.nanoTime();
            writing.add(this);
        }

        private void end() throws IOException {
            writing.remove(this);
            boolean wasCut;
            synchronized (this) {
                since = 0;
                wasCut = cut;
            }
            if (wasCut) {
                Thread.interrupted(); // the interrupt did its work (the connection is closed); the thread goes on to clean up
                throw stalled();
            }
        }

        synchronized void cutIfStalled(long now) {
            if (since != 0 && !cut && now - since > limitNanos) {
                cut = true;
                thread.interrupt();
            }
        }

        private IOException stalled() {
            return new IOException("the client took no bytes for " + TimeUnit.NANOSECONDS.toMillis(limitNanos) + " ms");
        }
    }

    @FunctionalInterface
    private interface Write {
        void run() throws IOException;
    }

    /** The exchange as handlers see it: sending the status line and headers is watched like the body. */
    private static final class WatchedExchange extends HttpExchange {
        private final HttpExchange ex;
        private final Guarded out;

        WatchedExchange(HttpExchange ex, Guarded out) {
            this.ex = ex;
            this.out = out;
        }

        @Override
        public void sendResponseHeaders(int rCode, long responseLength) throws IOException {
            out.watched(() -> ex.sendResponseHeaders(rCode, responseLength));
        }

        @Override
        public Headers getRequestHeaders() {
            return ex.getRequestHeaders();
        }

        @Override
        public Headers getResponseHeaders() {
            return ex.getResponseHeaders();
        }

        @Override
        public URI getRequestURI() {
            return ex.getRequestURI();
        }

        @Override
        public String getRequestMethod() {
            return ex.getRequestMethod();
        }

        @Override
        public HttpContext getHttpContext() {
            return ex.getHttpContext();
        }

        @Override
        public void close() {
            ex.close();
        }

        @Override
        public InputStream getRequestBody() {
            return ex.getRequestBody();
        }

        @Override
        public OutputStream getResponseBody() {
            return ex.getResponseBody();
        }

        @Override
        public InetSocketAddress getRemoteAddress() {
            return ex.getRemoteAddress();
        }

        @Override
        public int getResponseCode() {
            return ex.getResponseCode();
        }

        @Override
        public InetSocketAddress getLocalAddress() {
            return ex.getLocalAddress();
        }

        @Override
        public String getProtocol() {
            return ex.getProtocol();
        }

        @Override
        public Object getAttribute(String name) {
            return ex.getAttribute(name);
        }

        @Override
        public void setAttribute(String name, Object value) {
            ex.setAttribute(name, value);
        }

        @Override
        public void setStreams(InputStream i, OutputStream o) {
            ex.setStreams(i, o);
        }

        @Override
        public HttpPrincipal getPrincipal() {
            return ex.getPrincipal();
        }
    }
}
