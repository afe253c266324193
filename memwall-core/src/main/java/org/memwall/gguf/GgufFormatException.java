package org.memwall.gguf;

import org.memwall.MemwallException;

/** A GGUF file that is truncated, corrupt or hostile. The message names the file and the problem. */
public final class GgufFormatException extends MemwallException {
    public GgufFormatException(String message) {
        super(message);
    }
}
