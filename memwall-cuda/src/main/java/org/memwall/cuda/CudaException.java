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

    /** The machine has no NVIDIA driver or no GPU: nothing to say under {@code --device auto}. */
    public static CudaException noGpu(String message) {
        return new CudaException(message, NO_GPU);
    }

    public boolean noGpu() {
        return code == NO_GPU || code == NO_DEVICE;
    }

    private static final int NO_GPU = -2;

    /** CUDA_ERROR_NO_DEVICE, from cuInit on a machine whose driver finds no GPU. */
    private static final int NO_DEVICE = 100;

    /** CUDA_ERROR_OUT_OF_MEMORY. */
    public static final int OUT_OF_MEMORY = 2;
}
