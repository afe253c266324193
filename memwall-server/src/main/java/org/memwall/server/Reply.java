package org.memwall.server;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.memwall.chat.ReplyDecoder;
import org.memwall.chat.ToolCallFormat;
import org.memwall.chat.ToolCallStream;
import org.memwall.tokenizer.StreamingDetokenizer;
import org.memwall.tokenizer.Tokenizer;
import org.memwall.tokenizer.Vocabulary;

/**
 * A reply's text: decoded (and split into harmony channels), stop strings cut, deltas passed on.
 * When the reply may call tools, text from where a call may begin is held back from the deltas,
 * each call goes to the sink as it is written (its name, then its arguments in pieces: a
 * {@link ToolCallStream}), and the finished reply is split into its text and {@link #calls}; what a
 * call's arguments still lack then (arguments that are not an object are sent whole) goes out last.
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
    private final ToolCallStream callStream;
    /** The arguments text each streamed call has been sent so far. */
    private final List<StringBuilder> argumentsSent = new ArrayList<>();

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
        this.callStream = tools == ToolCallFormat.NONE ? null : new ToolCallStream(tools, parallel ? Integer.MAX_VALUE : 1, new ToolCallStream.Listener() {
            @Override
            public void begin(int index, String name) {
                argumentsSent.add(new StringBuilder());
                callEvent(index, name, null);
            }

            @Override
            public void arguments(int index, String fragment) {
                argumentsSent.get(index).append(fragment);
                callEvent(index, null, fragment);
            }
        });
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
            String piece = v.type(id) == Vocabulary.CONTROL ? rawText.flush() + v.token(id) : rawText.push(id);
            raw.append(piece);
            callStream.push(piece);
        }
        decoder.accept(id);
        rethrow();
    }

    void finish(DeltaSink sink) throws IOException {
        this.sink = sink;
        decoder.finish();
        String rest = stops.flush();
        content.append(rest);
        if (raw != null) {
            String last = rawText.flush();
            callStream.push(last);
            List<ToolCallFormat.Call> found = tools.parse(raw.append(last).toString()).calls();
            if (!found.isEmpty()) {
                calls = parallel ? found : found.subList(0, 1);
            }
        } else if (tools != ToolCallFormat.NONE) {
            callStream.push(rest);
            ToolCallFormat.Parsed parsed = tools.parse(content.toString());
            if (!parsed.calls().isEmpty()) {
                calls = parallel ? parsed.calls() : parsed.calls().subList(0, 1);
                content.setLength(0);
                content.append(parsed.content());
                completeCalls();
                rethrow();
                return; // the text before the call went out already; what follows it is not streamed
            }
        }
        completeCalls();
        release(content.length());
        rethrow();
    }

    /**
     * Sends what the streamed calls still lack: the end of their arguments (whole, for arguments that
     * were not an object), and calls the stream did not see begin. Fragments already sent stand.
     */
    private void completeCalls() {
        for (int i = 0; i < calls.size(); i++) {
            String args = calls.get(i).arguments();
            if (i >= argumentsSent.size()) {
                argumentsSent.add(new StringBuilder());
                callEvent(i, calls.get(i).name(), null);
            }
            String sent = argumentsSent.get(i).toString();
            if (args.length() > sent.length() && args.startsWith(sent)) {
                callEvent(i, null, args.substring(sent.length()));
            }
        }
    }

    /** How many calls went to the sink (a streamed call is not taken back, even if the finished reply does not parse). */
    int streamedCalls() {
        return argumentsSent.size();
    }

    /** The tool calls the finished reply made (empty when none). */
    List<ToolCallFormat.Call> calls() {
        return calls;
    }

    private void content(String text) {
        String out = stops.push(text);
        if (!out.isEmpty()) {
            content.append(out);
            if (callStream != null && raw == null) {
                callStream.push(out);
            }
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

    /** A call's start ({@code name} set) or a fragment of its arguments. */
    private void callEvent(int index, String name, String arguments) {
        if (sink != null && failure == null) {
            try {
                if (name != null) {
                    sink.callBegins(index, name);
                } else {
                    sink.callArguments(index, arguments);
                }
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

    /**
     * Receives a reply's new text as it comes: content, or reasoning (one of them null); and tool
     * calls as they are written, which a sink that wants them whole ignores (they are in {@link #calls}).
     */
    @FunctionalInterface
    interface DeltaSink {
        void delta(String content, String reasoning) throws IOException;

        /** Call {@code index} (from 0) to function {@code name} begins; its arguments follow. */
        default void callBegins(int index, String name) throws IOException {
        }

        /** More of call {@code index}'s arguments text. */
        default void callArguments(int index, String fragment) throws IOException {
        }
    }
}
