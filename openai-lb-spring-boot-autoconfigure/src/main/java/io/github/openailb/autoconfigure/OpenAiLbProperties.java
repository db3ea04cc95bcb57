package io.github.openailb.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.InvalidConfigurationException;
import io.github.openailb.core.KeyStyle;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration of the openai-lb balancer.
 */
@ConfigurationProperties("openai.lb")
public class OpenAiLbProperties {

	/**
	 * Whether to balance calls across the configured backends.
	 */
	private boolean enabled = true;

	/**
	 * Backends (Azure OpenAI or OpenAI-compatible instances) to balance across.
	 */
	private List<Backend> backends = new ArrayList<>();

	/**
	 * Cool-down of a backend whose throttled (or failed) answer carries no usable retry hint.
	 */
	private Duration defaultRetryAfter = Duration.ofSeconds(10);

	/**
	 * Upper bound on any single cool-down, whatever a backend asks for.
	 */
	private Duration maxCoolDown = Duration.ofMinutes(5);

	/**
	 * How long a request waits for the soonest cooling backend when every backend is cooling down;
	 * 0s answers 429 at once.
	 */
	private Duration maxWait = Duration.ZERO;

	/**
	 * Longest wait for a connection to a backend, per attempt.
	 */
	private Duration connectTimeout = Duration.ofSeconds(5);

	/**
	 * Longest wait for a backend's status, headers and first body byte, per attempt; also the
	 * longest silence tolerated inside a streaming answer.
	 */
	private Duration responseTimeout = Duration.ofSeconds(120);

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public List<Backend> getBackends() {
		return this.backends;
	}

	public void setBackends(List<Backend> backends) {
		this.backends = backends;
	}

	public Duration getDefaultRetryAfter() {
		return this.defaultRetryAfter;
	}

	public void setDefaultRetryAfter(Duration defaultRetryAfter) {
		this.defaultRetryAfter = defaultRetryAfter;
	}

	public Duration getMaxCoolDown() {
		return this.maxCoolDown;
	}

	public void setMaxCoolDown(Duration maxCoolDown) {
		this.maxCoolDown = maxCoolDown;
	}

	public Duration getMaxWait() {
		return this.maxWait;
	}

	public void setMaxWait(Duration maxWait) {
		this.maxWait = maxWait;
	}

	public Duration getConnectTimeout() {
		return this.connectTimeout;
	}

	public void setConnectTimeout(Duration connectTimeout) {
		this.connectTimeout = connectTimeout;
	}

	public Duration getResponseTimeout() {
		return this.responseTimeout;
	}

	public void setResponseTimeout(Duration responseTimeout) {
		this.responseTimeout = responseTimeout;
	}

	/**
	 * Validate and convert to the engine's configuration.
	 * @return the engine configuration
	 * @throws io.github.openailb.core.InvalidConfigurationException naming the property at fault
	 */
	public BalancerConfig toBalancerConfig() {
		// the engine does not see the transport's timeouts, so they are checked here
		positive(this.connectTimeout, "connect-timeout", "5s");
		positive(this.responseTimeout, "response-timeout", "120s");
		BalancerConfig.Builder builder = BalancerConfig.builder()
			.defaultRetryAfter(this.defaultRetryAfter)
			.maxCoolDown(this.maxCoolDown)
			.maxWait(this.maxWait);
		for (Backend backend : this.backends) {
			builder.backend(new BalancerConfig.BackendBuilder().name(backend.getName())
				.url(backend.getUrl())
				.priority(backend.getPriority())
				.weight(backend.getWeight())
				.apiKey(backend.getApiKey())
				.keyStyle(backend.getKeyStyle())
				.deployment(backend.getDeployment())
				.enabled(backend.isEnabled()));
		}
		return builder.build();
	}

	private static void positive(Duration value, String property, String example) {
		if (value == null || value.isNegative() || value.isZero()) {
			throw new InvalidConfigurationException("openai.lb." + property,
					"must be a positive duration but was " + value,
					"Set openai.lb." + property + " to a positive duration such as " + example + ".");
		}
	}

	/**
	 * One backend instance.
	 */
	public static class Backend {

		/**
		 * Unique name of the backend, used in logs, metric tags, health details and as its
		 * circuit-breaker name.
		 */
		private String name;

		/**
		 * Base URL of the instance: scheme, host, optional port and path prefix, e.g.
		 * https://my-instance.openai.azure.com.
		 */
		private String url;

		/**
		 * Priority tier, 1 being the highest; lower tiers take traffic only while every higher one
		 * is unavailable.
		 */
		private int priority = 1;

		/**
		 * Share of traffic among the available backends of the same priority.
		 */
		private int weight = 1;

		/**
		 * API key of this instance; it replaces whatever key the caller set. Without one, the
		 * caller's credential (or Entra ID) is used.
		 */
		private String apiKey;

		/**
		 * How the API key is sent: 'api-key' header (Azure OpenAI) or 'Authorization: Bearer'
		 * (OpenAI and OpenAI-compatible servers).
		 */
		private KeyStyle keyStyle = KeyStyle.API_KEY;

		/**
		 * Deployment (model) name on this instance, when it differs from the one the caller uses.
		 */
		private String deployment;

		/**
		 * Whether this backend takes traffic.
		 */
		private boolean enabled = true;

		public String getName() {
			return this.name;
		}

		public void setName(String name) {
			this.name = name;
		}

		public String getUrl() {
			return this.url;
		}

		public void setUrl(String url) {
			this.url = url;
		}

		public int getPriority() {
			return this.priority;
		}

		public void setPriority(int priority) {
			this.priority = priority;
		}

		public int getWeight() {
			return this.weight;
		}

		public void setWeight(int weight) {
			this.weight = weight;
		}

		public String getApiKey() {
			return this.apiKey;
		}

		public void setApiKey(String apiKey) {
			this.apiKey = apiKey;
		}

		public KeyStyle getKeyStyle() {
			return this.keyStyle;
		}

		public void setKeyStyle(KeyStyle keyStyle) {
			this.keyStyle = keyStyle;
		}

		public String getDeployment() {
			return this.deployment;
		}

		public void setDeployment(String deployment) {
			this.deployment = deployment;
		}

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

}
