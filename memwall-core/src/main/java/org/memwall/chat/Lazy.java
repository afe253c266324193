package org.memwall.chat;

import java.util.List;

/**
 * A lazily produced sequence, as Jinja's {@code map}, {@code select}, {@code selectattr} and
 * {@code reject} return: iterable and joinable, but with no length and not JSON-serializable.
 */
record Lazy(List<Object> items) {
}
