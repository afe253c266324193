package org.memwall.server;

import java.io.IOException;
import java.util.List;
import org.memwall.chat.ReplyDecoder;
import org.memwall.tokenizer.Tokenizer;

/** A reply's text: decoded (and split into harmony channels), stop strings cut, deltas passed on. */
final class Reply {
    final StringBuilder content = new StringBuilder();
    final StringBuilder reasoning = new StringBuilder();
    private final ReplyDecoder decoder;
    private final StopMatcher stops;
    private DeltaSink sink;
    private IOException failure;

    Reply(Tokenizer tokenizer, boolean harmony, List<String> stopStrings) {
        this.stops = new StopMatcher(stopStrings);
        this.decoder = new ReplyDecoder(tokenizer, harmony, (channel, text) -> {
            if (channel.equals("final")) {
                content(text);
            } else {
                reasoning.append(text);
                emit(null, text);
            }
        });
    }

    boolean stopped() {
        return stops.stopped();
    }

    void token(int id, DeltaSink sink) throws IOException {
        this.sink = sink;
        decoder.accept(id);
        rethrow();
    }

    void finish(DeltaSink sink) throws IOException {
        this.sink = sink;
        decoder.finish();
        String held = stops.flush();
        if (!held.isEmpty()) {
            content.append(held);
            emit(held, null);
        }
        rethrow();
    }

    private void content(String text) {
        String out = stops.push(text);
        if (!out.isEmpty()) {
            content.append(out);
            emit(out, null);
        }
    }

    private void emit(String c, String r) {
        if (sink != null && failure == null) {
            try {
                sink.delta(c, r);
            } catch (IOException e) {
                failure = e;
            }
        }
    }

    private void rethrow() throws IOException {
        if (failure != null) {
            throw failure;
        }
    }

    /** Receives a reply's new text as it comes: content, or reasoning (one of them null). */
    @FunctionalInterface
    interface DeltaSink {
        void delta(String content, String reasoning) throws IOException;
    }
}
