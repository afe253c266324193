package org.memwall.chat;

/**
 * Finds tool calls in a reply while it is generated and passes each call's arguments on as they are
 * written, the way OpenAI streams {@code tool_calls}: first the call's name, then fragments of its
 * arguments text. The fragments join into exactly the arguments {@link ToolCallFormat#parse} returns
 * for the finished reply, since both take the text the model wrote:
 * <ul>
 * <li>{@link ToolCallFormat#HERMES}, {@link ToolCallFormat#LLAMA3}, {@link ToolCallFormat#GRANITE}:
 *     the arguments object inside the call's JSON ({@code "arguments"} or {@code "parameters"}), found
 *     by a {@link CallObjectScanner} (so the object's end is known though the outer object goes on);
 *     a call is announced once its name and the start of its arguments object have been read;
 *     arguments that are not an object are left to the end (the caller sends them whole);</li>
 * <li>{@link ToolCallFormat#HARMONY}: the message to {@code functions.NAME}, from {@code <|message|>}
 *     to {@code <|call|>} (or {@code <|end|>}), less surrounding whitespace; fed the reply's text with
 *     its special tokens.</li>
 * </ul>
 * Text is held back only where it may still change: trailing whitespace of a harmony message and an
 * end that may be the start of its closing token.
 */
public final class ToolCallStream {
    /** Receives a call's start (index from 0) and then its arguments, piece by piece. */
    public interface Listener {
        void begin(int index, String name);

        void arguments(int index, String fragment);
    }

    private static final String[] HARMONY_ENDS = {"<|call|>", "<|end|>"};

    private final ToolCallFormat format;
    private final Listener listener;
    private final int maxCalls;
    private final StringBuilder text = new StringBuilder();
    /** Where scanning resumes. */
    private int pos;
    private Phase phase;
    private CallObjectScanner object;
    /** The current call's arguments: where they start and how far they have been passed on (-1: not started). */
    private int argsFrom = -1;
    private int sent = -1;
    private boolean begun;
    private int calls;

    private enum Phase { SEEK, START, OBJECT, AFTER, HEADER, MESSAGE, DONE }

    /** @param maxCalls how many calls to pass on (1 when {@code parallel_tool_calls} is false) */
    public ToolCallStream(ToolCallFormat format, int maxCalls, Listener listener) {
        this.format = format;
        this.listener = listener;
        this.maxCalls = maxCalls;
        this.phase = switch (format) {
            case HERMES, GRANITE, HARMONY -> Phase.SEEK;
            case LLAMA3 -> Phase.START;
            case NONE -> Phase.DONE;
        };
    }

    /** Calls announced so far. */
    public int calls() {
        return calls;
    }

    /** More of the reply. */
    public void push(String more) {
        text.append(more);
        String t = text.toString();
        while (phase != Phase.DONE && step(t)) {
            // each step consumes what it can and says whether the next one may get further
        }
    }

    /** One move of the state machine; false when it must wait for more text. */
    private boolean step(String t) {
        switch (phase) {
            case SEEK -> {
                String marker = format == ToolCallFormat.HERMES ? "<tool_call>" : format == ToolCallFormat.GRANITE ? "<|tool_call|>" : "to=functions.";
                int at = t.indexOf(marker, pos);
                if (at < 0) {
                    pos = Math.max(pos, t.length() - marker.length() + 1);
                    return false;
                }
                pos = at + marker.length();
                if (format == ToolCallFormat.HARMONY) {
                    phase = Phase.HEADER;
                } else if (format == ToolCallFormat.GRANITE) {
                    int open = skipSpace(t, pos);
                    if (open == t.length()) {
                        pos = at; // wait for the list to open
                        return false;
                    }
                    if (t.charAt(open) != '[') {
                        phase = Phase.DONE;
                        return false;
                    }
                    pos = open + 1;
                    startObject();
                } else {
                    startObject();
                }
                return true;
            }
            case START -> { // Llama 3: the reply is calls, optionally after <|python_tag|>
                int at = skipSpace(t, pos);
                String tag = "<|python_tag|>";
                if (t.startsWith(tag, at)) {
                    pos = at + tag.length();
                } else if (tag.startsWith(t.substring(at))) {
                    return false;
                }
                startObject();
                return true;
            }
            case OBJECT -> {
                return scanObject(t);
            }
            case AFTER -> { // between calls: Llama 3 "; ", Granite ", " or "]"; Hermes looks for its next tag
                int at = skipSpace(t, pos);
                if (at == t.length()) {
                    return false;
                }
                char c = t.charAt(at);
                if (format == ToolCallFormat.LLAMA3 && c == ';' || format == ToolCallFormat.GRANITE && c == ',') {
                    pos = at + 1;
                    startObject();
                    return true;
                }
                phase = Phase.DONE;
                return false;
            }
            case HEADER -> {
                return harmonyHeader(t);
            }
            case MESSAGE -> {
                return harmonyMessage(t);
            }
            default -> {
                return false;
            }
        }
    }

    private void startObject() {
        object = new CallObjectScanner();
        argsFrom = -1;
        sent = -1;
        begun = false;
        phase = Phase.OBJECT;
    }

    private boolean scanObject(String t) {
        while (pos < t.length()) {
            boolean more = object.feed(t, pos++);
            if (!more) {
                break;
            }
        }
        if (object.failed()) {
            phase = format == ToolCallFormat.HERMES ? Phase.SEEK : Phase.DONE;
            return phase != Phase.DONE;
        }
        int start = object.argumentsObjectStart();
        if (!begun && object.name() != null && (start >= 0 || object.end() >= 0)) {
            announce(object.name());
        }
        if (begun && start >= 0) {
            int upTo = object.argumentsEnd() >= 0 ? object.argumentsEnd() : pos;
            passOn(t, start, upTo);
        }
        if (object.end() < 0) {
            return false;
        }
        phase = format == ToolCallFormat.HERMES ? Phase.SEEK : Phase.AFTER;
        if (calls >= maxCalls) {
            phase = Phase.DONE;
        }
        return true;
    }

    /** After {@code to=functions.}: the name, then the rest of the header up to {@code <|message|>}. */
    private boolean harmonyHeader(String t) {
        int end = pos;
        while (end < t.length() && isNameChar(t.charAt(end))) {
            end++;
        }
        if (end == t.length()) {
            return false; // the name may go on
        }
        int message = t.indexOf("<|message|>", end);
        int stop = firstOf(t, end, "<|call|>", "<|end|>", "<|start|>", "<|return|>");
        if (end == pos || stop >= 0 && (message < 0 || stop < message)) {
            phase = Phase.SEEK; // not a call after all
            return true;
        }
        if (message < 0) {
            return false;
        }
        begun = false;
        announce(t.substring(pos, end));
        pos = message + "<|message|>".length();
        argsFrom = -1;
        sent = -1;
        phase = Phase.MESSAGE;
        return true;
    }

    private boolean harmonyMessage(String t) {
        if (argsFrom < 0) {
            int first = skipSpace(t, pos);
            if (first == t.length()) {
                return false;
            }
            argsFrom = first;
        }
        int close = firstOf(t, argsFrom, HARMONY_ENDS);
        int upTo = close >= 0 ? close : t.length() - heldBack(t, argsFrom);
        while (upTo > argsFrom && Character.isWhitespace(t.charAt(upTo - 1))) {
            upTo--; // trailing whitespace is not part of the arguments unless more follows
        }
        passOn(t, argsFrom, upTo);
        if (close < 0) {
            return false;
        }
        pos = close;
        phase = calls >= maxCalls ? Phase.DONE : Phase.SEEK;
        return true;
    }

    /** How much of the end of {@code t} may be the start of a harmony message's closing token. */
    private static int heldBack(String t, int from) {
        int hold = 0;
        for (String end : HARMONY_ENDS) {
            for (int k = Math.min(end.length() - 1, t.length() - from); k > hold; k--) {
                if (t.endsWith(end.substring(0, k))) {
                    hold = k;
                }
            }
        }
        return hold;
    }

    private void announce(String name) {
        begun = true;
        listener.begin(calls++, name);
    }

    private void passOn(String t, int start, int upTo) {
        if (sent < 0) {
            sent = start;
        }
        if (upTo > sent) {
            listener.arguments(calls - 1, t.substring(sent, upTo));
            sent = upTo;
        }
    }

    private static int firstOf(String t, int from, String... needles) {
        int best = -1;
        for (String n : needles) {
            int at = t.indexOf(n, from);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
            }
        }
        return best;
    }

    private static int skipSpace(String t, int from) {
        while (from < t.length() && Character.isWhitespace(t.charAt(from))) {
            from++;
        }
        return from;
    }

    /** As the parser reads a harmony recipient: {@code [\w.-]}. */
    private static boolean isNameChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-';
    }
}
