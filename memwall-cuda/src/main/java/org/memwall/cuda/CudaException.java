package org.memwall.cuda;

import org.memwall.MemwallException;

/** A CUDA driver call that failed, with the driver's error name and the call. */
public final class CudaException extends MemwallException {
    private final int code;

    public CudaException(String message, int code) {
        super(message);
        this.code = code;
    }

    /** The driver's {@code CUresult}, or -1 when the failure is memwall's own (no driver, bad PTX). */
    public int code() {
        return code;
    }

    /** CUDA_ERROR_OUT_OF_MEMORY. */
    public static final int OUT_OF_MEMORY = 2;
}
