package org.memwall.chat;

/** The template itself stopped rendering with {@code raise_exception(message)}. */
public final class TemplateRaisedException extends TemplateException {
    public TemplateRaisedException(String message) {
        super(message);
    }
}
