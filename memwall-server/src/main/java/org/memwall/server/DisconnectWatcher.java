package org.memwall.server;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import com.sun.net.httpserver.HttpExchange;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Notices at once when the client of a running generation closes or resets its connection, without
 * writing to it. A write is how a vanished client surfaces otherwise, and a generation writes only
 * when it has a token: a client that drops just after a token was noticed one step later, and its
 * sequence left the batch a step after that. Here one platform thread blocks in {@code poll(2)} on
 * the sockets of all running generations and wakes when one hangs up (Linux's {@code POLLRDHUP} for
 * a FIN, {@code POLLHUP}/{@code POLLERR} for a reset); nothing is read, so bytes a client sends
 * early (a pipelined request) stay where the server will read them, and nothing is done per token.
 *
 * <p>The JDK's HTTP server does not expose an exchange's socket: it is reached by reflection, which
 * needs {@code --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED} and
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (the launcher's jar manifest carries both).
 * Without them, or off Linux, {@link #available()} is false and a vanished client is noticed by the
 * next write, as before. A client that half-closes its side and keeps reading counts as gone, as
 * with nginx and llama-server.
 */
final class DisconnectWatcher implements AutoCloseable {
    /** A watched exchange; closing it stops the watch (before the exchange ends, so its descriptor is never reused under it). */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }

    private static final Watch NONE = () -> { };
    // <poll.h> on Linux: revents bits; POLLRDHUP must be asked for, the others are always reported.
    private static final short POLLERR = 0x8;
    private static final short POLLHUP = 0x10;
    private static final short POLLNVAL = 0x20;
    private static final short POLLRDHUP = 0x2000;
    /** struct pollfd { int fd; short events; short revents; }: 8 bytes. */
    private static final int POLLFD_BYTES = 8;
    /** A new watch joins the poll within this long; a hang-up of one already polled wakes the poll at once. */
    private static final int TICK_MILLIS = 20;

    private static final Access ACCESS = Access.find();

    private final Set<Entry> watched = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private volatile boolean closed;
    private final Thread thread;

    /** One watched socket (identity: two watches of one descriptor are two entries). */
    private static final class Entry {
        final int fd;
        final Runnable onHangup;

        Entry(int fd, Runnable onHangup) {
            this.fd = fd;
            this.onHangup = onHangup;
        }
    }

    DisconnectWatcher() {
        thread = ACCESS.reason == null ? Thread.ofPlatform().daemon().name("memwall-disconnects").start(this::run) : null;
    }

    /** Whether hang-ups are noticed here; when not, {@link #unavailableReason} says why. */
    boolean available() {
        return ACCESS.reason == null;
    }

    String unavailableReason() {
        return ACCESS.reason;
    }

    /**
     * Watches {@code ex}'s connection until the returned watch is closed: when its client closes or
     * resets it, {@code onHangup} runs once, on the watcher's thread (it must be quick). A null
     * exchange (a generation for an in-process caller) is not watched.
     */
    Watch watch(HttpExchange ex, Runnable onHangup) {
        int fd = ACCESS.reason == null && ex != null ? ACCESS.fd(ex) : -1;
        if (fd < 0 || closed) {
            return NONE;
        }
        Entry e = new Entry(fd, onHangup);
        watched.add(e);
        lock.lock();
        try {
            work.signal();
        } finally {
            lock.unlock();
        }
        return () -> watched.remove(e);
    }

    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            lock.lock();
            try {
                work.signal();
            } finally {
                lock.unlock();
            }
        }
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(64L * POLLFD_BYTES);
            List<Entry> polled = new ArrayList<>();
            while (!closed) {
                polled.clear();
                polled.addAll(watched);
                if (polled.isEmpty()) {
                    lock.lock();
                    try {
                        while (!closed && watched.isEmpty()) {
                            work.awaitUninterruptibly();
                        }
                    } finally {
                        lock.unlock();
                    }
                    continue;
                }
                if (fds.byteSize() < (long) polled.size() * POLLFD_BYTES) {
                    fds = arena.allocate(2L * polled.size() * POLLFD_BYTES);
                }
                for (int i = 0; i < polled.size(); i++) {
                    fds.set(JAVA_INT, (long) i * POLLFD_BYTES, polled.get(i).fd);
                    fds.set(JAVA_SHORT, (long) i * POLLFD_BYTES + 4, POLLRDHUP);
                    fds.set(JAVA_SHORT, (long) i * POLLFD_BYTES + 6, (short) 0);
                }
                int ready = ACCESS.poll(fds, polled.size(), TICK_MILLIS);
                for (int i = 0; ready > 0 && i < polled.size(); i++) {
                    short revents = fds.get(JAVA_SHORT, (long) i * POLLFD_BYTES + 6);
                    if (revents == 0) {
                        continue;
                    }
                    ready--;
                    Entry e = polled.get(i);
                    // Only an entry still watched: one closed meanwhile may have had its descriptor reused.
                    if (watched.remove(e) && (revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0 && (revents & POLLNVAL) == 0) {
                        try {
                            e.onHangup.run();
                        } catch (RuntimeException ignored) {
                            // the listener's own failure must not stop the watch of the others
                        }
                    }
                }
            }
        }
    }

    /** The reflective path from an exchange to its socket's descriptor, and {@code poll(2)}; or why there is none. */
    private record Access(Field exchange, Field connection, Field channel, Method fdVal, MethodHandle poll, String reason) {
        static Access find() {
            if (!System.getProperty("os.name", "").equals("Linux")) {
                return failed("POLLRDHUP is Linux's; elsewhere a vanished client is noticed by the next write");
            }
            try {
                Field exchange = Class.forName("sun.net.httpserver.HttpExchangeImpl").getDeclaredField("impl");
                Field connection = Class.forName("sun.net.httpserver.ExchangeImpl").getDeclaredField("connection");
                Field channel = Class.forName("sun.net.httpserver.HttpConnection").getDeclaredField("chan");
                exchange.setAccessible(true);
                connection.setAccessible(true);
                channel.setAccessible(true);
                Method fdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
                try (SocketChannel probe = SocketChannel.open()) {
                    fdVal.invoke(probe); // fails here, not per request, when sun.nio.ch is not exported to us
                }
                Linker linker = Linker.nativeLinker();
                MethodHandle poll = linker.downcallHandle(linker.defaultLookup().find("poll").orElseThrow(),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
                return new Access(exchange, connection, channel, fdVal, poll, null);
            } catch (ReflectiveOperationException | RuntimeException | java.io.IOException e) {
                return failed("the JVM does not open the HTTP server's connections to memwall (--add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED"
                        + " --add-exports java.base/sun.nio.ch=ALL-UNNAMED): " + e);
            }
        }

        private static Access failed(String reason) {
            return new Access(null, null, null, null, null, reason);
        }

        /** The descriptor of {@code ex}'s socket, or -1. */
        int fd(HttpExchange ex) {
            try {
                Object impl = exchange.get(WriteStallCutoff.unwrap(ex));
                Object conn = connection.get(impl);
                return conn == null ? -1 : (int) fdVal.invoke(channel.get(conn));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return -1;
            }
        }

        int poll(MemorySegment fds, int count, int timeoutMillis) {
            try {
                return (int) poll.invokeExact(fds, (long) count, timeoutMillis);
            } catch (Throwable t) {
                throw new IllegalStateException("poll(2) failed", t);
            }
        }
    }
}
