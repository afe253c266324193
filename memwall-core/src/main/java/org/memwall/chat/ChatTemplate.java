package org.memwall.chat;

import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * A chat template ({@code tokenizer.chat_template}), parsed once and rendered many times, the way
 * Hugging Face transformers renders it with Jinja2: sandboxed, {@code trim_blocks}, {@code lstrip_blocks},
 * loop controls, {@code tojson} keeping non-ASCII text, {@code raise_exception} and {@code strftime_now}.
 * Rendering is bounded in output size, loop iterations, call depth and time.
 */
public final class ChatTemplate {
    private final List<Node> nodes;

    private ChatTemplate(List<Node> nodes) {
        this.nodes = nodes;
    }

    /** Parses {@code source}; a syntax error is a {@link TemplateException} naming the line. */
    public static ChatTemplate parse(String source) {
        return new ChatTemplate(TemplateParser.parse(source));
    }

    /**
     * Renders with {@code variables} (String, Long/Integer, Double, Boolean, null, List, Map values).
     * {@code raise_exception} in the template ends in {@link TemplateRaisedException}; other failures
     * in {@link TemplateException}.
     */
    public String render(Map<String, Object> variables) {
        return render(variables, Clock.systemDefaultZone());
    }

    /** Renders as {@link #render(Map)} with {@code strftime_now} reading {@code clock} (tests pin the date with a fixed one). */
    public String render(Map<String, Object> variables, Clock clock) {
        try {
            return new Renderer(Renderer.Limits.DEFAULT, clock).render(nodes, normalize(variables));
        } catch (StackOverflowError e) {
            throw new TemplateException("template nesting is too deep");
        } catch (ArithmeticException e) {
            throw new TemplateException("OverflowError: " + e.getMessage());
        } catch (IndexOutOfBoundsException | ClassCastException | NullPointerException e) {
            throw new TemplateException("TypeError: " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> normalize(Map<String, Object> variables) {
        return (Map<String, Object>) normalizeValue(variables);
    }

    /** Integers become Long, other numbers Double, maps and lists are copied (templates cannot change the caller's). */
    private static Object normalizeValue(Object v) {
        return switch (v) {
            case Integer i -> (long) i;
            case Short s -> (long) s;
            case Byte b -> (long) b;
            case Float f -> (double) f;
            case Map<?, ?> m -> {
                Map<Object, Object> out = new java.util.LinkedHashMap<>();
                m.forEach((k, val) -> out.put(k, normalizeValue(val)));
                yield out;
            }
            case List<?> l -> {
                List<Object> out = new java.util.ArrayList<>();
                l.forEach(x -> out.add(normalizeValue(x)));
                yield out;
            }
            case null, default -> v;
        };
    }
}
