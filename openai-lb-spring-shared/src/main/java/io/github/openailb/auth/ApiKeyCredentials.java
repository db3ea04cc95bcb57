package io.github.openailb.auth;

import java.util.HashMap;
import java.util.Map;

import io.github.openailb.core.BackendConfig;
import io.github.openailb.core.KeyStyle;
import reactor.core.publisher.Mono;

/**
 * The configured API key of each backend, as {@code api-key} or {@code Authorization: Bearer}
 * by its {@link KeyStyle}; empty for backends without a key.
 */
public final class ApiKeyCredentials implements BackendCredentials {

	private final Map<String, Mono<AuthHeader>> headers = new HashMap<>();

	/**
	 * Create credentials for these backends.
	 * @param backends the backends
	 */
	public ApiKeyCredentials(Iterable<BackendConfig> backends) {
		for (BackendConfig backend : backends) {
			if (backend.apiKey() != null) {
				this.headers.put(backend.name(), Mono.just(header(backend)));
			}
		}
	}

	/**
	 * Build the header carrying a backend's key.
	 * @param backend a backend with a key
	 * @return the header
	 */
	public static AuthHeader header(BackendConfig backend) {
		return (backend.keyStyle() == KeyStyle.BEARER) ? new AuthHeader("Authorization", "Bearer " + backend.apiKey())
				: new AuthHeader("api-key", backend.apiKey());
	}

	@Override
	public Mono<AuthHeader> headerFor(BackendConfig backend) {
		return this.headers.getOrDefault(backend.name(), Mono.empty());
	}

}
