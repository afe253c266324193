package org.memwall.engine;

import org.memwall.MemwallException;

/** The engine's running slots and queue are full; the caller should retry later. */
public final class EngineBusyException extends MemwallException {
    public EngineBusyException(String message) {
        super(message);
    }
}
