package io.github.openailb.auth;

import java.util.Map;

import io.github.openailb.core.BackendConfig;
import reactor.core.publisher.Mono;

/**
 * Routes each backend to the credentials chosen for it by name; backends without an entry keep
 * the caller's headers.
 */
public final class PerBackendCredentials implements BackendCredentials {

	private final Map<String, BackendCredentials> byName;

	/**
	 * Create credentials routing by backend name.
	 * @param byName the credentials of each backend that gets one
	 */
	public PerBackendCredentials(Map<String, BackendCredentials> byName) {
		this.byName = Map.copyOf(byName);
	}

	@Override
	public Mono<AuthHeader> headerFor(BackendConfig backend) {
		BackendCredentials credentials = this.byName.get(backend.name());
		return (credentials != null) ? credentials.headerFor(backend) : Mono.empty();
	}

}
