package org.memwall;

/**
 * The one exception type for failures a user can act on: a bad file, an unsupported model, a bad
 * argument. Its message is a complete sentence fit to print on one line; the CLI prints it and exits
 * non-zero, the server turns it into an error response.
 */
public class MemwallException extends RuntimeException {
    public MemwallException(String message) {
        super(message);
    }

    public MemwallException(String message, Throwable cause) {
        super(message, cause);
    }
}
