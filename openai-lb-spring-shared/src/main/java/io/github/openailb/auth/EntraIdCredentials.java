package io.github.openailb.auth;

import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import com.azure.core.credential.TokenCredential;
import com.azure.core.credential.TokenRequestContext;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.identity.ManagedIdentityCredentialBuilder;
import io.github.openailb.core.BackendConfig;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Microsoft Entra ID bearer tokens for the backends authenticated with azure-identity. Backends
 * sharing a credential (the default one, or the same user-assigned managed identity) share one
 * token cache. Credentials are created on their first use, so that an application whose
 * backends never need one neither pays for nor fails on them.
 */
public final class EntraIdCredentials implements BackendCredentials {

	/** The scope of Azure OpenAI (Azure AI services) tokens. */
	public static final String DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default";

	private final Map<String, TokenCache> byBackend = new HashMap<>();

	private EntraIdCredentials(Builder builder) {
		Map<String, TokenCache> byCredential = new HashMap<>();
		TokenRequestContext context = new TokenRequestContext().addScopes(builder.scope);
		builder.backends.forEach((backend, clientId) -> {
			TokenCache cache = byCredential.computeIfAbsent((clientId != null) ? clientId : "", (key) -> {
				Supplier<TokenCredential> credential = (clientId != null)
						? lazy(() -> builder.managedIdentity.apply(clientId)) : lazy(builder.defaultCredential);
				String name = (clientId != null) ? "managed identity " + clientId : "the default credential";
				return new TokenCache(name, () -> credential.get().getToken(context), builder.clock,
						Schedulers.boundedElastic());
			});
			this.byBackend.put(backend, cache);
		});
	}

	/**
	 * Start a builder.
	 * @return a builder with the default scope, {@code DefaultAzureCredential} and
	 * {@code ManagedIdentityCredential} for client ids
	 */
	public static Builder builder() {
		return new Builder();
	}

	@Override
	public Mono<AuthHeader> headerFor(BackendConfig backend) {
		TokenCache cache = this.byBackend.get(backend.name());
		if (cache == null) {
			return Mono.empty();
		}
		return cache.token()
			.map((token) -> new AuthHeader("Authorization", "Bearer " + token.getToken()))
			.onErrorMap((ex) -> !(ex instanceof BackendCredentialException),
					(ex) -> new BackendCredentialException(
							"Entra ID token unavailable: " + ex.getClass().getSimpleName(), ex));
	}

	private static Supplier<TokenCredential> lazy(Supplier<TokenCredential> factory) {
		return new Supplier<>() {

			private TokenCredential credential;

			@Override
			public synchronized TokenCredential get() {
				if (this.credential == null) {
					this.credential = factory.get();
				}
				return this.credential;
			}

		};
	}

	/**
	 * Builds {@link EntraIdCredentials}.
	 */
	public static final class Builder {

		private final Map<String, String> backends = new LinkedHashMap<>();

		private String scope = DEFAULT_SCOPE;

		private Supplier<TokenCredential> defaultCredential = () -> new DefaultAzureCredentialBuilder().build();

		private Function<String, TokenCredential> managedIdentity = (clientId) -> new ManagedIdentityCredentialBuilder()
			.clientId(clientId)
			.build();

		private Clock clock = Clock.systemUTC();

		private Builder() {
		}

		/**
		 * Authenticate a backend with the default credential.
		 * @param name the backend's name
		 * @return this builder
		 */
		public Builder backend(String name) {
			return backend(name, null);
		}

		/**
		 * Authenticate a backend with a user-assigned managed identity.
		 * @param name the backend's name
		 * @param managedIdentityClientId the identity's client id, or {@code null} for the
		 * default credential
		 * @return this builder
		 */
		public Builder backend(String name, String managedIdentityClientId) {
			this.backends.put(name, managedIdentityClientId);
			return this;
		}

		/**
		 * Set the scope tokens are requested for.
		 * @param scope the scope
		 * @return this builder
		 */
		public Builder scope(String scope) {
			this.scope = scope;
			return this;
		}

		/**
		 * Set the credential of backends without a managed identity client id; it is created on
		 * first use.
		 * @param defaultCredential creates the credential
		 * @return this builder
		 */
		public Builder defaultCredential(Supplier<TokenCredential> defaultCredential) {
			this.defaultCredential = defaultCredential;
			return this;
		}

		/**
		 * Set how the credential of a user-assigned managed identity is created, on first use.
		 * @param managedIdentity creates a credential from a client id
		 * @return this builder
		 */
		public Builder managedIdentity(Function<String, TokenCredential> managedIdentity) {
			this.managedIdentity = managedIdentity;
			return this;
		}

		/**
		 * Set the clock that decides when tokens are refreshed.
		 * @param clock the clock
		 * @return this builder
		 */
		public Builder clock(Clock clock) {
			this.clock = clock;
			return this;
		}

		/**
		 * Build the credentials.
		 * @return the credentials
		 */
		public EntraIdCredentials build() {
			return new EntraIdCredentials(this);
		}

	}

}
