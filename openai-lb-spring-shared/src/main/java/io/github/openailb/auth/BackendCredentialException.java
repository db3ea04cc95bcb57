package io.github.openailb.auth;

/**
 * Signals that a backend's credential could not be obtained. Its message is safe to show in
 * logs and health (it never carries a key or token); the cause, when there is one, is the
 * underlying error.
 */
public class BackendCredentialException extends RuntimeException {

	/**
	 * Create a new exception.
	 * @param message why, without secrets
	 * @param cause the underlying error, or {@code null}
	 */
	public BackendCredentialException(String message, Throwable cause) {
		super(message, cause);
	}

}
