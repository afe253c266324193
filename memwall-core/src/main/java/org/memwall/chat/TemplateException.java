package org.memwall.chat;

import org.memwall.MemwallException;

/** A chat template that cannot be parsed, or that failed while rendering (type error, budget, undefined). */
public class TemplateException extends MemwallException {
    public TemplateException(String message) {
        super(message);
    }
}
