package org.memwall.grammar;

import org.memwall.MemwallException;

/** A grammar, JSON schema or pattern that cannot be compiled; the message names what and where. */
public final class GrammarException extends MemwallException {
    public GrammarException(String message) {
        super(message);
    }
}
