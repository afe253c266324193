package org.memwall.server;

import java.io.IOException;
import java.util.List;
import org.memwall.chat.ReplyDecoder;
import org.memwall.chat.ToolCallFormat;
import org.memwall.tokenizer.StreamingDetokenizer;
import org.memwall.tokenizer.Tokenizer;
import org.memwall.tokenizer.Vocabulary;

/**
 * A reply's text: decoded (and split into harmony channels), stop strings cut, deltas passed on.
 * When the reply may call tools, text from where a call may begin is held back from the deltas,
 * and the finished reply is split into its text and {@link #calls}.
 */
final class Reply {
    final StringBuilder content = new StringBuilder();
    final StringBuilder reasoning = new StringBuilder();
    private final ReplyDecoder decoder;
    private final StopMatcher stops;
    private final ToolCallFormat tools;
    private final boolean parallel;
    /** Content passed on as deltas so far; where a call begins once one has (else -1). */
    private int released;
    private int callAt = -1;
    private List<ToolCallFormat.Call> calls = List.of();
    private DeltaSink sink;
    private IOException failure;
    private final Tokenizer tokenizer;
    /** Harmony with tools: the reply with its special tokens' text, where calls are parsed from. */
    private final StringBuilder raw;
    private final StreamingDetokenizer rawText;

    Reply(Tokenizer tokenizer, boolean harmony, List<String> stopStrings) {
        this(tokenizer, harmony, stopStrings, ToolCallFormat.NONE, true);
    }

    /** {@code tools}: the convention the reply's calls are parsed in (NONE: no calls); {@code parallel}: more than one call kept. */
    Reply(Tokenizer tokenizer, boolean harmony, List<String> stopStrings, ToolCallFormat tools, boolean parallel) {
        this.stops = new StopMatcher(stopStrings);
        this.tools = tools;
        this.parallel = parallel;
        this.tokenizer = tokenizer;
        this.raw = tools == ToolCallFormat.HARMONY ? new StringBuilder() : null;
        this.rawText = raw == null ? null : new StreamingDetokenizer(tokenizer, false);
        this.decoder = new ReplyDecoder(tokenizer, harmony, tools.markers(), (channel, text) -> {
            if (channel.equals("final")) {
                content(text);
            } else if (raw != null && channel.equals("commentary")) {
                // harmony tool calls (and preambles) are commentary: parsed from the raw reply at the end
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
        if (raw != null) {
            Vocabulary v = tokenizer.vocabulary();
            raw.append(v.type(id) == Vocabulary.CONTROL ? rawText.flush() + v.token(id) : rawText.push(id));
        }
        decoder.accept(id);
        rethrow();
    }

    void finish(DeltaSink sink) throws IOException {
        this.sink = sink;
        decoder.finish();
        content.append(stops.flush());
        if (raw != null) {
            List<ToolCallFormat.Call> found = tools.parse(raw.append(rawText.flush()).toString()).calls();
            if (!found.isEmpty()) {
                calls = parallel ? found : found.subList(0, 1);
            }
        } else if (tools != ToolCallFormat.NONE) {
            ToolCallFormat.Parsed parsed = tools.parse(content.toString());
            if (!parsed.calls().isEmpty()) {
                calls = parallel ? parsed.calls() : parsed.calls().subList(0, 1);
                content.setLength(0);
                content.append(parsed.content());
                rethrow();
                return; // the text before the call went out already; what follows it is not streamed
            }
        }
        release(content.length());
        rethrow();
    }

    /** The tool calls the finished reply made (empty when none). */
    List<ToolCallFormat.Call> calls() {
        return calls;
    }

    private void content(String text) {
        String out = stops.push(text);
        if (!out.isEmpty()) {
            content.append(out);
            release(tools == ToolCallFormat.NONE ? content.length() : releasable());
        }
    }

    /** How much content may go out while a tool call might still be coming. */
    private int releasable() {
        if (callAt < 0) {
            String text = content.toString();
            callAt = tools.callStart(text);
            if (callAt < 0) {
                if (tools == ToolCallFormat.LLAMA3 && text.isBlank()) {
                    return released; // a Llama 3 call is the whole reply: leading space may still start one
                }
                // Hold back an end that may be the start of a call's opening marker.
                int hold = 0;
                for (String marker : tools.markers()) {
                    for (int k = Math.min(marker.length() - 1, text.length()); k > hold; k--) {
                        if (text.endsWith(marker.substring(0, k))) {
                            hold = k;
                        }
                    }
                }
                return text.length() - hold;
            }
        }
        return callAt;
    }

    private void release(int upTo) {
        if (upTo > released) {
            String out = content.substring(released, upTo);
            released = upTo;
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
