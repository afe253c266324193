package org.memwall.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.memwall.hub.DownloadProgress;

/**
 * Download progress on stderr: a bar redrawn in place (bytes, rate, ETA) on a terminal, plain lines at
 * each tenth otherwise, so logs stay readable.
 */
final class ProgressBar implements DownloadProgress {
    private final PrintStream err;
    private final boolean terminal;
    private String file;
    private long total;
    private long startBytes;
    private long startNanos;
    private long lastDraw;
    private int lastTenth;

    ProgressBar(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void note(String message) {
        if (terminal) {
            err.print("\r\033[K");
        }
        err.println("memwall: " + message);
    }

    @Override
    public void start(String file, long total, long already) {
        this.file = file;
        this.total = total;
        this.startBytes = already;
        this.startNanos = System.nanoTime();
        this.lastTenth = (int) (already * 10 / Math.max(1, total));
        err.println("memwall: downloading " + file + " (" + InfoCommand.bytes(total) + (already > 0 ? ", resuming at " + InfoCommand.bytes(already) : "") + ")");
    }

    @Override
    public void advance(long done) {
        long now = System.nanoTime();
        if (terminal) {
            if (now - lastDraw > 100_000_000L || done == total) {
                lastDraw = now;
                draw(done, now);
            }
        } else {
            int tenth = (int) (done * 10 / Math.max(1, total));
            if (tenth > lastTenth) {
                lastTenth = tenth;
                err.println("memwall: " + file + " " + tenth * 10 + "% " + rate(done, now));
            }
        }
    }

    @Override
    public void finish() {
        if (terminal) {
            err.print("\r\033[K");
        }
        err.println("memwall: " + file + " done, SHA-256 verified");
    }

    private void draw(long done, long now) {
        int width = 30;
        int filled = (int) (done * width / Math.max(1, total));
        err.print("\r\033[K[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + InfoCommand.bytes(done) + " / " + InfoCommand.bytes(total) + " " + rate(done, now));
        err.flush();
    }

    private String rate(long done, long now) {
        double seconds = (now - startNanos) / 1e9;
        double perSecond = seconds > 0 ? (done - startBytes) / seconds : 0;
        if (perSecond <= 0) {
            return "";
        }
        long eta = (long) ((total - done) / perSecond);
        return String.format(Locale.ROOT, "%s/s, ETA %d:%02d", InfoCommand.bytes((long) perSecond), eta / 60, eta % 60);
    }
}
