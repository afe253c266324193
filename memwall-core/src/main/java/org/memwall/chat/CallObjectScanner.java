package org.memwall.chat;

/**
 * Reads one tool-call JSON object ({@code {"name": …, "arguments": {…}}}) a character at a time and
 * says where its parts are, so a stream can pass the arguments on as they are written and a parser
 * can take the same text as the call's arguments: the function's name once its string has closed,
 * and the start and end of the first arguments value (under {@code "arguments"} or {@code "parameters"},
 * whichever the convention names and the model wrote). Only the top level is tracked; nested values
 * are skipped by depth, strings by their quotes and escapes.
 */
final class CallObjectScanner {
    private int depth;
    private boolean inString;
    private boolean escaped;
    /** At the top level: what comes next. */
    private Expect expect = Expect.OPEN;
    private final StringBuilder key = new StringBuilder();
    private String currentKey;
    private int valueStart = -1;
    private boolean inValue;
    private boolean valueIsObject;
    private boolean scalarValue;
    private String name;
    private int argumentsStart = -1;
    private int argumentsEnd = -1;
    private boolean argumentsObject;
    private int end = -1;
    private boolean failed;

    private enum Expect { OPEN, KEY, COLON, VALUE, COMMA }


    /** Feeds the character at {@code index} of the text; returns false once the object has ended or cannot be a call. */
    boolean feed(String text, int index) {
        if (end >= 0 || failed) {
            return false;
        }
        char c = text.charAt(index);
        if (inString) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                inString = false;
                if (depth == 1) {
                    if (expect == Expect.KEY) {
                        currentKey = key.toString();
                        expect = Expect.COLON;
                    } else {
                        valueEnds(text, index + 1);
                    }
                }
            } else if (depth == 1 && expect == Expect.KEY) {
                key.append(c);
            }
            return true;
        }
        if (depth == 1 && scalarValue) {
            if (c == ',' || c == '}' || Character.isWhitespace(c)) {
                valueEnds(text, index);
            } else {
                return true;
            }
        }
        if (Character.isWhitespace(c)) {
            return true;
        }
        if (depth == 0) {
            return c == '{' ? open() : fail();
        }
        if (depth == 1) {
            switch (expect) {
                case KEY -> {
                    if (c == '"') {
                        inString = true;
                        key.setLength(0);
                        return true;
                    }
                    return c == '}' && currentKey == null ? close(index) : fail();
                }
                case COLON -> {
                    if (c != ':') {
                        return fail();
                    }
                    expect = Expect.VALUE;
                    return true;
                }
                case VALUE -> {
                    valueStart = index;
                    inValue = true;
                    valueIsObject = c == '{';
                    expect = Expect.COMMA;
                    if (c == '"') {
                        inString = true;
                    } else if (c == '{' || c == '[') {
                        depth++;
                    } else {
                        scalarValue = true;
                    }
                    return true;
                }
                case COMMA -> {
                    if (c == ',') {
                        expect = Expect.KEY;
                        currentKey = null;
                        return true;
                    }
                    return c == '}' ? close(index) : fail();
                }
                default -> {
                    return fail();
                }
            }
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth == 1) {
                valueEnds(text, index + 1);
            }
        }
        return true;
    }

    private boolean open() {
        depth = 1;
        expect = Expect.KEY;
        return true;
    }

    private boolean close(int index) {
        depth = 0;
        end = index + 1;
        return false;
    }

    private boolean fail() {
        failed = true;
        return false;
    }

    private void valueEnds(String text, int at) {
        scalarValue = false;
        inValue = false;
        if ("name".equals(currentKey) && text.charAt(valueStart) == '"' && name == null) {
            Object n = Json.parse(text.substring(valueStart, at));
            name = n instanceof String s ? s : null;
        } else if (isArgumentsKey() && argumentsEnd < 0) {
            argumentsStart = valueStart;
            argumentsEnd = at;
            argumentsObject = valueIsObject;
        }
    }

    private boolean isArgumentsKey() {
        return "arguments".equals(currentKey) || "parameters".equals(currentKey);
    }

    /** The function's name, once its string has closed; null before. */
    String name() {
        return name;
    }

    /**
     * Where the arguments object that is being written (or was) starts in the text, or -1: none yet,
     * or the arguments are not an object (a string holding JSON, say; those are read whole at the end).
     */
    int argumentsObjectStart() {
        if (argumentsEnd >= 0) {
            return argumentsObject ? argumentsStart : -1;
        }
        return inValue && valueIsObject && isArgumentsKey() ? valueStart : -1;
    }

    /** Where the arguments value ends (exclusive), or -1 while it is still being written. */
    int argumentsEnd() {
        return argumentsEnd;
    }

    /** Where the object ended (exclusive), or -1. */
    int end() {
        return end;
    }

    boolean failed() {
        return failed;
    }
}
