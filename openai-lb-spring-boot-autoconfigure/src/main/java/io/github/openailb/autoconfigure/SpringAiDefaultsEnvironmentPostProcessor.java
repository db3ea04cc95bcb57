package io.github.openailb.autoconfigure;

import java.util.LinkedHashMap;
import java.util.Map;

import io.github.openailb.transport.BalancingClientHttpConnector;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.EnvironmentPostProcessor;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.ClassUtils;
import org.springframework.util.StringUtils;

/**
 * Supplies the Spring AI settings an application balanced by openai-lb would otherwise have to
 * write, so that listing {@code openai.lb.backends} is enough. Each default applies only where the
 * user set nothing (the property source comes last):
 * <ul>
 * <li>{@code spring.ai.azure.openai.endpoint}: Spring AI refuses to start without one; our azure
 * {@code HttpClient} ignores the host anyway.</li>
 * <li>{@code spring.ai.openai.base-url} = {@value BalancingClientHttpConnector#BASE_URL}, the host
 * our {@code RestClient}/{@code WebClient} customizers balance, and a placeholder
 * {@code spring.ai.openai.api-key} (Spring AI requires one; each backend's key replaces it).</li>
 * <li>{@code spring.ai.retry.max-attempts=1}: the balancer already fails over; Spring AI's
 * back-off would only delay a caller who should back off by the 429's Retry-After.</li>
 * <li>{@code logging.level.com.azure.core.http.policy.RetryPolicy=WARN}: with no SDK retries it
 * would log at INFO on every call that its retries are exhausted.</li>
 * <li>{@code logging.level.org.springframework.ai.retry.autoconfigure.SpringAiRetryAutoConfiguration=ERROR}
 * with that single attempt: it would log a WARN "Retry error" for each failed call, whose exception
 * the caller gets anyway.</li>
 * <li>{@code logging.level.org.springframework.ai.chat.model.MessageAggregator=OFF}: it logs every
 * failed stream ("Aggregation Error", with a stack trace, up to twice per stream) and passes the
 * error on to the subscriber, so a 429 storm would fill the log with what the caller already has.</li>
 * <li>{@code logging.level.reactor.netty.http.client.HttpClientConnect=ERROR}, with or without
 * Spring AI: see {@link LoggerLevelDefaults#CONNECT_LOGGER}.</li>
 * </ul>
 * For the Spring AI and Reactor Netty loggers, a level the user set for the logger or for a package
 * above it wins.
 */
class SpringAiDefaultsEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

	/** Name of the property source holding the defaults. */
	static final String PROPERTY_SOURCE_NAME = "openAiLbSpringAiDefaults";

	/** Endpoint given to Spring AI's Azure client builder; https so SDK policies accept it. */
	static final String AZURE_ENDPOINT = "https://" + BalancingClientHttpConnector.LOGICAL_HOST;

	/** Stands in for an API key where Spring AI demands one; never sent to a backend with a key. */
	static final String PLACEHOLDER_KEY = "openai-lb";

	private static final String RETRY_POLICY_LOG_LEVEL = "logging.level.com.azure.core.http.policy.RetryPolicy";

	private static final String AZURE_BUILDER = "com.azure.ai.openai.OpenAIClientBuilder";

	private static final String OPENAI_API = "org.springframework.ai.openai.api.OpenAiApi";

	/** Logs each failed attempt of Spring AI's RetryTemplate at WARN. */
	static final String RETRY_LOGGER = "org.springframework.ai.retry.autoconfigure.SpringAiRetryAutoConfiguration";

	/** Logs each failed stream at ERROR with a stack trace, then passes the error on. */
	static final String AGGREGATOR_LOGGER = "org.springframework.ai.chat.model.MessageAggregator";

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		if (!environment.getProperty("openai.lb.enabled", Boolean.class, true)) {
			return;
		}
		ClassLoader classLoader = (application != null) ? application.getClassLoader() : null;
		Map<String, Object> defaults = new LinkedHashMap<>();
		boolean azure = ClassUtils.isPresent(AZURE_BUILDER, classLoader);
		boolean openAi = ClassUtils.isPresent(OPENAI_API, classLoader);
		if (azure && !has(environment, "spring.ai.azure.openai.endpoint")
				&& !has(environment, "spring.ai.azure.openai.openai-api-key")) {
			defaults.put("spring.ai.azure.openai.endpoint", AZURE_ENDPOINT);
		}
		if (azure && !has(environment, RETRY_POLICY_LOG_LEVEL)) {
			// with 0 retries the SDK logs "Retry attempts have been exhausted" at INFO on every call
			defaults.put(RETRY_POLICY_LOG_LEVEL, "WARN");
		}
		if (openAi && !has(environment, "spring.ai.openai.base-url")) {
			defaults.put("spring.ai.openai.base-url", BalancingClientHttpConnector.BASE_URL);
			if (!has(environment, "spring.ai.openai.api-key")) {
				defaults.put("spring.ai.openai.api-key", PLACEHOLDER_KEY);
			}
		}
		if ((azure || openAi) && !has(environment, "spring.ai.retry.max-attempts")) {
			defaults.put("spring.ai.retry.max-attempts", "1");
			// one attempt: its "Retry error" WARN only repeats the exception the caller gets
			LoggerLevelDefaults.put(environment, defaults, RETRY_LOGGER, "ERROR");
		}
		if (azure || openAi) {
			LoggerLevelDefaults.put(environment, defaults, AGGREGATOR_LOGGER, "OFF");
		}
		LoggerLevelDefaults.addTransportDefaults(environment, defaults);
		if (!defaults.isEmpty()) {
			environment.getPropertySources().addLast(new MapPropertySource(PROPERTY_SOURCE_NAME, defaults));
		}
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
