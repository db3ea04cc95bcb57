package io.github.openailb.auth;

import io.github.openailb.core.BackendConfig;
import reactor.core.publisher.Mono;

/**
 * Supplies the credential header each attempt sends to its backend. The caller's own
 * {@code api-key} and {@code Authorization} headers are replaced by it; when it completes empty
 * the caller's headers are sent unchanged.
 */
@FunctionalInterface
public interface BackendCredentials {

	/**
	 * Return the credential header for one attempt, without blocking.
	 * @param backend the backend the attempt goes to
	 * @return the header, empty to keep the caller's, or an error when no credential can be had
	 * (the request then fails over as after a 401; the message of a
	 * {@link BackendCredentialException} becomes the backend's misconfiguration reason)
	 */
	Mono<AuthHeader> headerFor(BackendConfig backend);

}
