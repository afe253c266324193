package org.memwall.chat;

/**
 * A string marked safe ({@code |safe}, {@code |escape}). As in Jinja2's MarkupSafe, adding a plain
 * string to it HTML-escapes the plain string — some real templates depend on that.
 */
record Markup(String text) {
    static Object unwrap(Object v) {
        return v instanceof Markup m ? m.text() : v;
    }
}
