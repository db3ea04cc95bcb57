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
import io.github.openailb.core.ConfigurationProblems;
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
	 * @throws InvalidConfigurationException naming every contradicting setting
	 */
	static BackendCredentials create(BalancerConfig config, OpenAiLbProperties properties,
			BiFunction<Map<String, String>, String, BackendCredentials> entraId) {
		ConfigurationProblems problems = new ConfigurationProblems();
		Map<String, Choice> choices = choose(config, properties, entraId != null, problems);
		problems.throwIfAny();
		Map<String, BackendCredentials> byName = new HashMap<>();
		Map<String, String> entraBackends = new LinkedHashMap<>();
		ApiKeyCredentials keys = new ApiKeyCredentials(config.backends());
		for (BackendConfig backend : config.backends()) {
			Choice choice = choices.get(backend.name());
			switch (choice.mode()) {
				case API_KEY -> byName.put(backend.name(), keys);
				case ENTRA -> entraBackends.put(backend.name(), choice.clientId());
				default -> {
					if (choice.requested() == AuthMode.AUTO && isAzureHost(backend)) {
						logger.info("openai-lb: backend '{}' has no api-key and azure-identity is not on the "
								+ "classpath; the caller's credential is sent to it", backend.name());
					}
				}
			}
			warnIfPlainHttp(backend, choice.mode());
		}
		if (!entraBackends.isEmpty()) {
			BackendCredentials tokens = entraId.apply(entraBackends, properties.getAuth().getScope().strip());
			entraBackends.keySet().forEach((name) -> byName.put(name, tokens));
		}
		return new PerBackendCredentials(byName);
	}

	/**
	 * Record every setting that contradicts another, without creating any credential.
	 * @param config the engine configuration
	 * @param properties the properties the configuration came from
	 * @param entraAvailable whether azure-identity is on the classpath
	 * @param problems where to record them
	 */
	static void check(BalancerConfig config, OpenAiLbProperties properties, boolean entraAvailable,
			ConfigurationProblems problems) {
		choose(config, properties, entraAvailable, problems);
	}

	private static Map<String, Choice> choose(BalancerConfig config, OpenAiLbProperties properties,
			boolean entraAvailable, ConfigurationProblems problems) {
		Map<String, Integer> indexes = new HashMap<>();
		List<OpenAiLbProperties.Backend> configured = properties.getBackends();
		for (int i = 0; i < configured.size(); i++) {
			indexes.putIfAbsent(configured.get(i).getName(), i);
		}
		Map<String, Choice> choices = new HashMap<>();
		boolean anyEntra = false;
		for (int i = 0; i < config.backends().size(); i++) {
			BackendConfig backend = config.backends().get(i);
			Integer index = indexes.get(backend.name());
			OpenAiLbProperties.Backend settings = (index != null) ? configured.get(index) : null;
			String path = BalancerConfig.PREFIX + ".backends[" + ((index != null) ? index : i) + "]";
			AuthMode mode = (settings != null && settings.getAuth() != null) ? settings.getAuth() : AuthMode.AUTO;
			String clientId = (settings != null) ? blankToNull(settings.getManagedIdentityClientId()) : null;
			AuthMode effective = effective(backend, mode, path, entraAvailable, problems);
			if (clientId != null && effective != AuthMode.ENTRA) {
				problems.add(path + ".managed-identity-client-id",
						"is only used with Entra ID, but this backend authenticates with "
								+ ((effective == AuthMode.API_KEY) ? "its api-key" : "the caller's credential"),
						"Remove it, or remove the api-key and set " + path + ".auth=entra.");
			}
			anyEntra |= effective == AuthMode.ENTRA;
			choices.put(backend.name(), new Choice(mode, effective, clientId));
		}
		String scope = properties.getAuth().getScope();
		if (anyEntra && (scope == null || scope.isBlank())) {
			problems.add(BalancerConfig.PREFIX + ".auth.scope", "is blank",
					"Remove it to use https://cognitiveservices.azure.com/.default, or set the scope of your "
							+ "cloud, e.g. https://cognitiveservices.azure.us/.default.");
		}
		return choices;
	}

	private static AuthMode effective(BackendConfig backend, AuthMode mode, String path, boolean entraAvailable,
			ConfigurationProblems problems) {
		boolean hasKey = backend.apiKey() != null;
		switch (mode) {
			case API_KEY -> {
				if (!hasKey) {
					problems.add(path + ".api-key", "is missing but auth is api-key",
							"Set the backend's key in " + path + ".api-key, or set " + path
									+ ".auth to entra, none or auto.");
				}
				return AuthMode.API_KEY;
			}
			case ENTRA, NONE -> {
				if (hasKey) {
					problems.add(path + ".api-key", "is set but auth is " + mode.name().toLowerCase(Locale.ROOT),
							"Remove the key, or set " + path + ".auth to api-key or auto.");
				}
				if (mode == AuthMode.ENTRA && !entraAvailable) {
					problems.add(path + ".auth", "is entra but azure-identity is not on the classpath",
							"Add the dependency com.azure:azure-identity, or authenticate the backend with an api-key.");
				}
				return mode;
			}
			default -> {
				if (hasKey) {
					return AuthMode.API_KEY;
				}
				return (isAzureHost(backend) && entraAvailable) ? AuthMode.ENTRA : AuthMode.NONE;
			}
		}
	}

	/** Once, at start-up: a key or token over plain HTTP can be read by anyone on the way. */
	private static void warnIfPlainHttp(BackendConfig backend, AuthMode mode) {
		if ((mode == AuthMode.API_KEY || mode == AuthMode.ENTRA) && "http".equalsIgnoreCase(backend.url().getScheme())
				&& !isLoopback(backend.url().getHost())) {
			logger.warn("openai-lb: backend '{}' sends its {} over plain http:// to {}, readable by anyone on the "
					+ "network path; use https://, or http:// only to a proxy on this machine (localhost)",
					backend.name(), (mode == AuthMode.API_KEY) ? "api key" : "Entra ID token", backend.host());
		}
	}

	/** Literal loopback names and addresses only: no name lookup at start-up. */
	static boolean isLoopback(String host) {
		String name = host.toLowerCase(Locale.ROOT);
		if (name.startsWith("[") && name.endsWith("]")) {
			name = name.substring(1, name.length() - 1);
		}
		return name.equals("localhost") || name.endsWith(".localhost") || name.matches("127(\\.\\d{1,3}){3}")
				|| name.equals("::1") || name.equals("0:0:0:0:0:0:0:1");
	}

	static boolean isAzureHost(BackendConfig backend) {
		String host = backend.url().getHost().toLowerCase(Locale.ROOT);
		return AZURE_HOSTS.stream().anyMatch(host::endsWith);
	}

	/** How a backend authenticates: as configured, as decided, and with which managed identity. */
	private record Choice(AuthMode requested, AuthMode mode, String clientId) {
	}

	private static String blankToNull(String value) {
		return (value == null || value.isBlank()) ? null : value.strip();
	}

}
