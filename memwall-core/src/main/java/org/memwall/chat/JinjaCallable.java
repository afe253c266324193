package org.memwall.chat;

import java.util.List;
import java.util.Map;

/** Anything a template can call: macros, {@code caller}, globals, bound string/dict methods. */
@FunctionalInterface
interface JinjaCallable {
    Object call(List<Object> args, Map<String, Object> kwargs);
}
