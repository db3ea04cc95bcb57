package io.github.openailb.autoconfigure;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;

import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.auth.AuthMode;
import io.github.openailb.auth.BackendCredentials;
import io.github.openailb.auth.PerBackendCredentials;
import io.github.openailb.core.BackendConfig;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.InvalidConfigurationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides how each backend authenticates, from its {@code auth} mode, key and managed identity
 * client id, and rejects settings that contradict each other.
 */
final class BackendCredentialsFactory {

	private static final Logger logger = LoggerFactory.getLogger(BackendCredentialsFactory.class);

	private static final List<String> AZURE_HOSTS = List.of(".azure.com", ".azure.us", ".azure.cn");

	private BackendCredentialsFactory() {
	}

	/**
	 * Create the credentials of every backend.
	 * @param config the engine configuration
	 * @param properties the properties the configuration came from
	 * @param entraId creates Entra ID credentials from backend names (to managed identity client
	 * id or {@code null}) and a scope; {@code null} when azure-identity is not on the classpath
	 * @return the credentials
	 */
	static BackendCredentials create(BalancerConfig config, OpenAiLbProperties properties,
			BiFunction<Map<String, String>, String, BackendCredentials> entraId) {
		Map<String, Integer> indexes = new HashMap<>();
		List<OpenAiLbProperties.Backend> configured = properties.getBackends();
		for (int i = 0; i < configured.size(); i++) {
			indexes.putIfAbsent(configured.get(i).getName(), i);
		}
		Map<String, BackendCredentials> byName = new HashMap<>();
		Map<String, String> entraBackends = new LinkedHashMap<>();
		ApiKeyCredentials keys = new ApiKeyCredentials(config.backends());
		for (int i = 0; i < config.backends().size(); i++) {
			BackendConfig backend = config.backends().get(i);
			Integer index = indexes.get(backend.name());
			OpenAiLbProperties.Backend settings = (index != null) ? configured.get(index) : null;
			String path = BalancerConfig.PREFIX + ".backends[" + ((index != null) ? index : i) + "]";
			AuthMode mode = (settings != null && settings.getAuth() != null) ? settings.getAuth() : AuthMode.AUTO;
			String clientId = (settings != null) ? blankToNull(settings.getManagedIdentityClientId()) : null;
			AuthMode effective = effective(backend, mode, path, entraId != null);
			if (clientId != null && effective != AuthMode.ENTRA) {
				throw new InvalidConfigurationException(path + ".managed-identity-client-id",
						"is only used with Entra ID, but this backend authenticates with "
								+ ((effective == AuthMode.API_KEY) ? "its api-key" : "the caller's credential"),
						"Remove it, or remove the api-key and set " + path + ".auth=entra.");
			}
			switch (effective) {
				case API_KEY -> byName.put(backend.name(), keys);
				case ENTRA -> entraBackends.put(backend.name(), clientId);
				default -> {
				}
			}
		}
		if (!entraBackends.isEmpty()) {
			String scope = properties.getAuth().getScope();
			if (scope == null || scope.isBlank()) {
				throw new InvalidConfigurationException(BalancerConfig.PREFIX + ".auth.scope", "is blank",
						"Remove it to use https://cognitiveservices.azure.com/.default, or set the scope of your "
								+ "cloud, e.g. https://cognitiveservices.azure.us/.default.");
			}
			BackendCredentials tokens = entraId.apply(entraBackends, scope.strip());
			entraBackends.keySet().forEach((name) -> byName.put(name, tokens));
		}
		return new PerBackendCredentials(byName);
	}

	private static AuthMode effective(BackendConfig backend, AuthMode mode, String path, boolean entraAvailable) {
		boolean hasKey = backend.apiKey() != null;
		switch (mode) {
			case API_KEY -> {
				if (!hasKey) {
					throw new InvalidConfigurationException(path + ".api-key", "is missing but auth is api-key",
							"Set the backend's key in " + path + ".api-key, or set " + path
									+ ".auth to entra, none or auto.");
				}
				return AuthMode.API_KEY;
			}
			case ENTRA, NONE -> {
				if (hasKey) {
					throw new InvalidConfigurationException(path + ".api-key",
							"is set but auth is " + mode.name().toLowerCase(Locale.ROOT),
							"Remove the key, or set " + path + ".auth to api-key or auto.");
				}
				if (mode == AuthMode.ENTRA && !entraAvailable) {
					throw new InvalidConfigurationException(path + ".auth",
							"is entra but azure-identity is not on the classpath",
							"Add the dependency com.azure:azure-identity, or authenticate the backend with an api-key.");
				}
				return mode;
			}
			default -> {
				if (hasKey) {
					return AuthMode.API_KEY;
				}
				if (!isAzureHost(backend)) {
					return AuthMode.NONE;
				}
				if (!entraAvailable) {
					logger.info("openai-lb: backend '{}' has no api-key and azure-identity is not on the classpath; "
							+ "the caller's credential is sent to it", backend.name());
					return AuthMode.NONE;
				}
				return AuthMode.ENTRA;
			}
		}
	}

	static boolean isAzureHost(BackendConfig backend) {
		String host = backend.url().getHost().toLowerCase(Locale.ROOT);
		return AZURE_HOSTS.stream().anyMatch(host::endsWith);
	}

	private static String blankToNull(String value) {
		return (value == null || value.isBlank()) ? null : value.strip();
	}

}
