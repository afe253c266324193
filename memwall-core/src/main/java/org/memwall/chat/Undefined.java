package org.memwall.chat;

/** Jinja's undefined value: prints as nothing, is falsy, iterates as empty; using it further is an error. */
public record Undefined(String name) {
    TemplateException error() {
        return new TemplateException("UndefinedError: '" + name + "' is undefined");
    }
}
