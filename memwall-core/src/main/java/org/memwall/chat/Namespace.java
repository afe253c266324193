package org.memwall.chat;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code namespace(...)}: the one mutable object templates get, written with {@code set ns.attr = value}. */
record Namespace(Map<String, Object> values) {
    Namespace() {
        this(new LinkedHashMap<>());
    }
}
