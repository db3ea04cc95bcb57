package io.github.openailb.autoconfigure;

import java.util.LinkedHashMap;
import java.util.Map;

import io.github.openailb.transport.BalancingClientHttpConnector;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

/**
 * Supplies the Spring AI 2 settings an application balanced by openai-lb would otherwise have to
 * write, so that listing {@code openai.lb.backends} (and the model or deployment) is enough. Each
 * default applies only where the user set nothing (the property source comes last):
 * <ul>
 * <li>{@code spring.ai.openai.base-url} = {@value BalancingClientHttpConnector#BASE_URL}, the host
 * our OkHttp interceptor balances.</li>
 * <li>a placeholder {@code spring.ai.openai.api-key}: without a key the SDK would fetch Entra ID
 * tokens itself in Azure mode, or refuse to start; each backend's own credential replaces it.</li>
 * <li>{@code spring.ai.openai.chat.model} = {@code spring.ai.openai.microsoft-deployment-name}: in
 * the SDK's Azure mode the request's model names the deployment of the path, and Spring AI takes
 * it from the chat model only, so the deployment name alone is enough.</li>
 * <li>{@code spring.ai.openai.max-retries} = {@code openai.lb.spring-ai.sdk-max-retries} (default
 * 0): the SDK retries a 429 with back-off, which would send the request to every backend again
 * while the caller should back off by the balancer's Retry-After.</li>
 * <li>{@code logging.level.org.springframework.ai.chat.model.MessageAggregator=OFF}: it logs every
 * failed stream ("Aggregation Error", with a stack trace) and passes the error on to the
 * subscriber, so a 429 storm would fill the log with what the caller already has.</li>
 * <li>{@code logging.level.reactor.netty.http.client.HttpClientConnect=ERROR}, with or without
 * Spring AI: see {@link LoggerLevelDefaults#CONNECT_LOGGER}.</li>
 * </ul>
 * A level the user set for one of these loggers, or for a package above it, wins.
 */
class SpringAiDefaultsEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

	/** Name of the property source holding the defaults. */
	static final String PROPERTY_SOURCE_NAME = "openAiLbSpringAiDefaults";

	/** Stands in for an API key where the SDK demands one; never sent to a backend with a key. */
	static final String PLACEHOLDER_KEY = "openai-lb";

	private static final String OPENAI_HTTP_CLIENT = "org.springframework.ai.openai.http.okhttp.SpringAiOpenAiHttpClient";

	/** Logs each failed stream at ERROR with a stack trace, then passes the error on. */
	static final String AGGREGATOR_LOGGER = "org.springframework.ai.chat.model.MessageAggregator";

	private static final String[] MODELS = { "chat", "embedding" };

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (!environment.getProperty("openai.lb.enabled", Boolean.class, true)) {
			return;
		}
		ClassLoader classLoader = (application != null) ? application.getClassLoader() : null;
		Map<String, Object> defaults = new LinkedHashMap<>();
		LoggerLevelDefaults.addTransportDefaults(environment, defaults);
		if (ClassUtils.isPresent(OPENAI_HTTP_CLIENT, classLoader)) {
			addSpringAiDefaults(environment, defaults);
		}
		if (!defaults.isEmpty()) {
			environment.getPropertySources().addLast(new MapPropertySource(PROPERTY_SOURCE_NAME, defaults));
		}
	}

	private static void addSpringAiDefaults(ConfigurableEnvironment environment, Map<String, Object> defaults) {
		if (!hasAny(environment, "base-url")) {
			defaults.put("spring.ai.openai.base-url", BalancingClientHttpConnector.BASE_URL);
			if (!hasAny(environment, "api-key")) {
				defaults.put("spring.ai.openai.api-key", PLACEHOLDER_KEY);
			}
		}
		String deployment = environment.getProperty("spring.ai.openai.microsoft-deployment-name");
		if (StringUtils.hasText(deployment) && !has(environment, "spring.ai.openai.chat.model")) {
			defaults.put("spring.ai.openai.chat.model", deployment);
		}
		if (!has(environment, "spring.ai.openai.max-retries")) {
			defaults.put("spring.ai.openai.max-retries",
					environment.getProperty("openai.lb.spring-ai.sdk-max-retries", "0"));
		}
		LoggerLevelDefaults.put(environment, defaults, AGGREGATOR_LOGGER, "OFF");
	}

	/** Set on {@code spring.ai.openai} or on one of its models. */
	private static boolean hasAny(ConfigurableEnvironment environment, String name) {
		if (has(environment, "spring.ai.openai." + name)) {
			return true;
		}
		for (String model : MODELS) {
			if (has(environment, "spring.ai.openai." + model + "." + name)) {
				return true;
			}
		}
		return false;
	}

	private static boolean has(ConfigurableEnvironment environment, String name) {
		return StringUtils.hasText(environment.getProperty(name));
	}

	@Override
	public int getOrder() {
		// after the config data (application.yml) has been loaded
		return Ordered.LOWEST_PRECEDENCE;
	}

}
