package org.memwall.hub;

/** What a pull reports while it runs, for a progress bar or log lines. */
public interface DownloadProgress {
    /** A message for the user (the quantization picked, a retry). */
    void note(String message);

    /** A download of {@code total} bytes starts, {@code already} of them present from an earlier try. */
    void start(String file, long total, long already);

    /** {@code done} bytes of the current file are present. */
    void advance(long done);

    /** The current file is complete and verified. */
    void finish();

    DownloadProgress SILENT = new DownloadProgress() {
        @Override
        public void note(String message) {
        }

        @Override
        public void start(String file, long total, long already) {
        }

        @Override
        public void advance(long done) {
        }

        @Override
        public void finish() {
        }
    };
}
