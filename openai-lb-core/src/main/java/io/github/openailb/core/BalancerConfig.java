package io.github.openailb.core;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Immutable, validated configuration of one balancer: its backends and the timing rules of
 * cool-downs and waits. Property paths in validation errors follow {@code openai.lb.*} so the
 * same messages serve Spring Boot users and plain Java users.
 *
 * @param backends the backends, in declaration order
 * @param defaultRetryAfter cool-down when a throttled answer carries no usable hint
 * @param maxCoolDown upper bound on any single cool-down
 * @param maxWait how long a request may wait for a cooling backend before failing
 * @param strategy how a backend is chosen within a priority tier
 * @param timeoutCoolDown how long a backend that timed out is left alone (its breaker held open), zero
 * for not at all
 * @param stateful where requests tied to server-side state go
 */
public record BalancerConfig(List<BackendConfig> backends, Duration defaultRetryAfter, Duration maxCoolDown,
		Duration maxWait, Strategy strategy, Duration timeoutCoolDown, Stateful stateful) {

	/** How long a backend that timed out is left alone unless configured otherwise. */
	public static final Duration DEFAULT_TIMEOUT_COOL_DOWN = Duration.ofSeconds(10);

	/**
	 * Create a configuration with the default timeout cool-down, whose stateful requests go to the
	 * default home backend.
	 * @param backends the backends
	 * @param defaultRetryAfter cool-down without a usable hint
	 * @param maxCoolDown upper bound on a cool-down
	 * @param maxWait longest wait for a cooling backend
	 * @param strategy how a backend is chosen within a priority tier
	 */
	public BalancerConfig(List<BackendConfig> backends, Duration defaultRetryAfter, Duration maxCoolDown,
			Duration maxWait, Strategy strategy) {
		this(backends, defaultRetryAfter, maxCoolDown, maxWait, strategy, DEFAULT_TIMEOUT_COOL_DOWN, null);
	}

	/**
	 * Create a configuration whose stateful requests go to the default home backend.
	 * @param backends the backends
	 * @param defaultRetryAfter cool-down without a usable hint
	 * @param maxCoolDown upper bound on a cool-down
	 * @param maxWait longest wait for a cooling backend
	 * @param strategy how a backend is chosen within a priority tier
	 * @param timeoutCoolDown how long a backend that timed out is left alone, zero for not at all
	 */
	public BalancerConfig(List<BackendConfig> backends, Duration defaultRetryAfter, Duration maxCoolDown,
			Duration maxWait, Strategy strategy, Duration timeoutCoolDown) {
		this(backends, defaultRetryAfter, maxCoolDown, maxWait, strategy, timeoutCoolDown, null);
	}

	/**
	 * Create a configuration.
	 * @param backends the backends, in declaration order
	 * @param defaultRetryAfter cool-down without a usable hint
	 * @param maxCoolDown upper bound on a cool-down
	 * @param maxWait longest wait for a cooling backend
	 * @param strategy how a backend is chosen within a priority tier
	 * @param timeoutCoolDown how long a backend that timed out is left alone, zero for not at all
	 * @param stateful where requests tied to server-side state go; {@code null} for the default
	 * home backend
	 */
	public BalancerConfig {
		if (stateful == null) {
			stateful = new Stateful(StatefulMode.HOME, Stateful.defaultHome(backends));
		}
	}

	/**
	 * Create a configuration with the default (headroom) strategy.
	 * @param backends the backends
	 * @param defaultRetryAfter cool-down without a usable hint
	 * @param maxCoolDown upper bound on a cool-down
	 * @param maxWait longest wait for a cooling backend
	 */
	public BalancerConfig(List<BackendConfig> backends, Duration defaultRetryAfter, Duration maxCoolDown,
			Duration maxWait) {
		this(backends, defaultRetryAfter, maxCoolDown, maxWait, Strategy.HEADROOM);
	}

	/** Prefix of every property path reported by validation. */
	public static final String PREFIX = "openai.lb";

	/** What Azure and OpenAI-compatible servers accept as a deployment or model name. */
	static final String DEPLOYMENT_NAME = "[A-Za-z0-9._:-]+";

	/**
	 * Return every model some backend's deployment map lists, in configuration order: the models
	 * whose state the engine keeps per backend (see {@link BackendConfig#deploymentsAmong(List)}).
	 * @return the models, empty when no backend has a deployment map
	 */
	public List<String> models() {
		Set<String> models = new java.util.LinkedHashSet<>();
		this.backends.forEach((backend) -> backend.deployments().forEach((d) -> models.add(d.model())));
		return List.copyOf(models);
	}

	/**
	 * Start a new builder with the documented defaults.
	 * @return a builder
	 */
	public static Builder builder() {
		return new Builder();
	}

	/**
	 * Builds a {@link BalancerConfig}, reporting every problem with its property path.
	 */
	public static final class Builder {

		private final List<BackendBuilder> backends = new ArrayList<>();

		private StatefulMode statefulMode = StatefulMode.HOME;

		private String statefulBackend;

		private Duration defaultRetryAfter = Duration.ofSeconds(10);

		private Duration maxCoolDown = Duration.ofMinutes(5);

		private Duration maxWait = Duration.ZERO;

		private Strategy strategy = Strategy.HEADROOM;

		private Duration timeoutCoolDown = DEFAULT_TIMEOUT_COOL_DOWN;

		private Builder() {
		}

		/**
		 * Add a backend.
		 * @param backend the backend's settings
		 * @return this builder
		 */
		public Builder backend(BackendBuilder backend) {
			this.backends.add(backend);
			return this;
		}

		/**
		 * Set where requests tied to server-side state go.
		 * @param mode to one home backend, or balanced like any other request
		 * @param backend name of the home backend, or {@code null} for the first enabled backend of
		 * the highest priority, in declaration order
		 * @return this builder
		 */
		public Builder stateful(StatefulMode mode, String backend) {
			this.statefulMode = mode;
			this.statefulBackend = backend;
			return this;
		}

		/**
		 * Set the cool-down used when a throttled answer carries no usable hint.
		 * @param defaultRetryAfter the cool-down
		 * @return this builder
		 */
		public Builder defaultRetryAfter(Duration defaultRetryAfter) {
			this.defaultRetryAfter = defaultRetryAfter;
			return this;
		}

		/**
		 * Set the upper bound on any single cool-down.
		 * @param maxCoolDown the bound
		 * @return this builder
		 */
		public Builder maxCoolDown(Duration maxCoolDown) {
			this.maxCoolDown = maxCoolDown;
			return this;
		}

		/**
		 * Set how long a request may wait for a cooling backend.
		 * @param maxWait the wait, zero to fail fast
		 * @return this builder
		 */
		public Builder maxWait(Duration maxWait) {
			this.maxWait = maxWait;
			return this;
		}

		/**
		 * Set how a backend is chosen within a priority tier.
		 * @param strategy the strategy
		 * @return this builder
		 */
		public Builder strategy(Strategy strategy) {
			this.strategy = strategy;
			return this;
		}

		/**
		 * Set how long a backend that timed out (connect or response timeout) is left alone, so that
		 * the next requests do not wait for it again.
		 * @param timeoutCoolDown the time, zero to keep trying it
		 * @return this builder
		 */
		public Builder timeoutCoolDown(Duration timeoutCoolDown) {
			this.timeoutCoolDown = timeoutCoolDown;
			return this;
		}

		/**
		 * Validate and build.
		 * @return the configuration
		 * @throws InvalidConfigurationException naming every property at fault
		 */
		public BalancerConfig build() {
			ConfigurationProblems problems = new ConfigurationProblems();
			positive(problems, this.defaultRetryAfter, "default-retry-after", "10s");
			positive(problems, this.maxCoolDown, "max-cool-down", "5m");
			notNegative(problems, this.maxWait, "max-wait", "fail fast");
			notNegative(problems, this.timeoutCoolDown, "timeout-cool-down",
					"never leave a backend alone after a timeout");
			if (this.backends.isEmpty()) {
				problems.add(PREFIX + ".backends", "no backend is configured",
						"List at least one backend with a name and a url, e.g. openai.lb.backends[0].name=primary "
								+ "and openai.lb.backends[0].url=https://my-instance.openai.azure.com");
			}
			List<BackendConfig> built = new ArrayList<>(this.backends.size());
			Set<String> names = new HashSet<>();
			for (int i = 0; i < this.backends.size(); i++) {
				BackendConfig backend = this.backends.get(i).build(PREFIX + ".backends[" + i + "]", problems);
				if (backend == null) {
					continue;
				}
				if (!names.add(backend.name())) {
					problems.add(PREFIX + ".backends[" + i + "].name",
							"the name '" + backend.name() + "' is used by another backend",
							"Give every backend a unique name; it identifies the backend in logs, metrics, health "
									+ "and circuit-breaker settings.");
				}
				built.add(backend);
			}
			Stateful stateful = stateful(problems, built, names);
			problems.throwIfAny();
			return new BalancerConfig(List.copyOf(built), this.defaultRetryAfter, this.maxCoolDown, this.maxWait,
					(this.strategy != null) ? this.strategy : Strategy.HEADROOM, this.timeoutCoolDown, stateful);
		}

		private Stateful stateful(ConfigurationProblems problems, List<BackendConfig> built, Set<String> names) {
			StatefulMode mode = (this.statefulMode != null) ? this.statefulMode : StatefulMode.HOME;
			String home = (this.statefulBackend != null) ? this.statefulBackend.strip() : "";
			if (home.isEmpty()) {
				return new Stateful(mode, Stateful.defaultHome(built));
			}
			if (!names.contains(home)) {
				problems.add(PREFIX + ".stateful.backend", "'" + home + "' is not the name of a configured backend",
						"Set " + PREFIX + ".stateful.backend to one of " + String.join(", ", names(built))
								+ ", or remove it to use the first enabled backend of the highest priority.");
			}
			return new Stateful(mode, home);
		}

		private static List<String> names(List<BackendConfig> built) {
			return built.stream().map(BackendConfig::name).toList();
		}

		private static void notNegative(ConfigurationProblems problems, Duration value, String property,
				String zeroMeans) {
			if (value == null || value.isNegative()) {
				problems.add(PREFIX + "." + property, "must not be negative but was " + value,
						"Set " + PREFIX + "." + property + " to 0s (" + zeroMeans + ") or a positive duration such as 2s.");
			}
		}

	}

	/**
	 * Where requests tied to server-side state go (see {@link StatefulRequests}).
	 *
	 * @param mode to one home backend, or balanced like any other request
	 * @param backend name of the home backend (also known in {@link StatefulMode#BALANCED} mode)
	 */
	public record Stateful(StatefulMode mode, String backend) {

		/**
		 * The default home: the first enabled backend of the highest priority, in declaration
		 * order, so that every replica with the same configuration picks the same one; the first
		 * of the highest priority when none is enabled.
		 * @param backends the backends in declaration order
		 * @return the home backend's name, or {@code null} when there is no backend
		 */
		static String defaultHome(List<BackendConfig> backends) {
			BackendConfig home = null;
			for (BackendConfig backend : backends) {
				if (home == null || (backend.enabled() && !home.enabled())
						|| (backend.enabled() == home.enabled() && backend.priority() < home.priority())) {
					home = backend;
				}
			}
			return (home != null) ? home.name() : null;
		}

	}

	/**
	 * Settings of one backend before validation.
	 */
	public static final class BackendBuilder {

		private String name;

		private String url;

		private int priority = 1;

		private int weight = 1;

		private String apiKey;

		private KeyStyle keyStyle = KeyStyle.API_KEY;

		private String deployment;

		private boolean enabled = true;

		private long rpm;

		private long tpm;

		private Map<String, String> deployments = Map.of();

		private Map<String, Long> deploymentRpm = Map.of();

		private Map<String, Long> deploymentTpm = Map.of();

		/**
		 * Set the unique name.
		 * @param name the name
		 * @return this builder
		 */
		public BackendBuilder name(String name) {
			this.name = name;
			return this;
		}

		/**
		 * Set the base URL.
		 * @param url scheme, host, optional port and path prefix
		 * @return this builder
		 */
		public BackendBuilder url(String url) {
			this.url = url;
			return this;
		}

		/**
		 * Set the priority, 1 being the highest.
		 * @param priority the priority
		 * @return this builder
		 */
		public BackendBuilder priority(int priority) {
			this.priority = priority;
			return this;
		}

		/**
		 * Set the weight within the priority tier.
		 * @param weight the weight
		 * @return this builder
		 */
		public BackendBuilder weight(int weight) {
			this.weight = weight;
			return this;
		}

		/**
		 * Set the API key.
		 * @param apiKey the key, or {@code null}
		 * @return this builder
		 */
		public BackendBuilder apiKey(String apiKey) {
			this.apiKey = apiKey;
			return this;
		}

		/**
		 * Set how the key is sent.
		 * @param keyStyle the style
		 * @return this builder
		 */
		public BackendBuilder keyStyle(KeyStyle keyStyle) {
			this.keyStyle = keyStyle;
			return this;
		}

		/**
		 * Set the deployment name on this backend.
		 * @param deployment the deployment, or {@code null} to keep the caller's
		 * @return this builder
		 */
		public BackendBuilder deployment(String deployment) {
			this.deployment = deployment;
			return this;
		}

		/**
		 * Set the models this backend serves, each under its name on this backend; the backend then
		 * takes only requests for these models. Not together with {@link #deployment(String)}.
		 * @param deployments deployment name on this backend by the model name the application
		 * sends, in the order to show them; empty for none
		 * @return this builder
		 */
		public BackendBuilder deployments(Map<String, String> deployments) {
			this.deployments = (deployments != null) ? deployments : Map.of();
			return this;
		}

		/**
		 * Set client-side requests-per-minute budgets per deployment.
		 * @param deploymentRpm budget by model name, each listed in {@link #deployments(Map)}
		 * @return this builder
		 */
		public BackendBuilder deploymentRpm(Map<String, Long> deploymentRpm) {
			this.deploymentRpm = (deploymentRpm != null) ? deploymentRpm : Map.of();
			return this;
		}

		/**
		 * Set client-side tokens-per-minute budgets per deployment.
		 * @param deploymentTpm budget by model name, each listed in {@link #deployments(Map)}
		 * @return this builder
		 */
		public BackendBuilder deploymentTpm(Map<String, Long> deploymentTpm) {
			this.deploymentTpm = (deploymentTpm != null) ? deploymentTpm : Map.of();
			return this;
		}

		/**
		 * Set whether the backend takes traffic.
		 * @param enabled whether enabled
		 * @return this builder
		 */
		public BackendBuilder enabled(boolean enabled) {
			this.enabled = enabled;
			return this;
		}

		/**
		 * Set a client-side requests-per-minute budget.
		 * @param rpm the budget, 0 for none
		 * @return this builder
		 */
		public BackendBuilder rpm(long rpm) {
			this.rpm = rpm;
			return this;
		}

		/**
		 * Set a client-side tokens-per-minute budget.
		 * @param tpm the budget, 0 for none
		 * @return this builder
		 */
		public BackendBuilder tpm(long tpm) {
			this.tpm = tpm;
			return this;
		}

		BackendConfig build(String path, ConfigurationProblems problems) {
			int before = problems.list().size();
			if (this.name == null || this.name.isBlank()) {
				problems.add(path + ".name", "is missing or blank", "Give the backend a unique name such as 'eastus-ptu'.");
			}
			else if (!this.name.matches("[A-Za-z0-9._-]+")) {
				problems.add(path + ".name",
						"'" + this.name + "' contains characters other than letters, digits, '.', '_' and '-'",
						"Use a simple name such as 'eastus-ptu'; it becomes a metric tag and a circuit-breaker name.");
			}
			URI uri = parseUrl(path + ".url", problems);
			if (this.priority < 1) {
				problems.add(path + ".priority", "must be 1 or more but was " + this.priority,
						"Use 1 for the preferred tier, 2 for the next one, and so on.");
			}
			if (this.weight < 1) {
				problems.add(path + ".weight", "must be 1 or more but was " + this.weight,
						"Use a positive weight; remove the backend or set enabled=false to send it no traffic.");
			}
			if (this.rpm < 0 || this.tpm < 0) {
				problems.add(path + ((this.rpm < 0) ? ".rpm" : ".tpm"), "must not be negative",
						"Use 0 (no client-side budget) or the instance's quota per minute.");
			}
			// an empty key usually is a variable that resolved to nothing: never silently another credential
			if (this.apiKey != null && this.apiKey.isBlank()) {
				problems.add(path + ".api-key", "is blank",
						"Set the backend's key, or remove the property; to authenticate with Microsoft Entra ID "
								+ "instead, remove api-key and set " + path + ".auth=entra.");
			}
			String key = (this.apiKey == null || this.apiKey.isBlank()) ? null : this.apiKey.strip();
			// HTTP clients refuse such a header on every attempt, and some echo its value in the error
			if (key != null && !key.chars().allMatch((c) -> c > 0x20 && c < 0x7f)) {
				problems.add(path + ".api-key", "holds a space, a control or a non-ASCII character, which no HTTP header may carry",
						"Copy the key again from the instance (Azure: Keys and Endpoint): letters, digits and marks such as "
								+ "'-' or '_', no spaces.");
			}
			String model = (this.deployment == null || this.deployment.isBlank()) ? null : this.deployment.strip();
			if (model != null && !model.matches(DEPLOYMENT_NAME)) {
				problems.add(path + ".deployment", "'" + model + "' is not a valid deployment name",
						"Use the deployment name exactly as shown for this instance, letters, digits, '.', '_', ':' or '-'.");
			}
			List<DeploymentConfig> deployments = deployments(path, model, problems);
			if (problems.list().size() > before) {
				return null;
			}
			return new BackendConfig(this.name, uri, this.priority, this.weight, key,
					(this.keyStyle != null) ? this.keyStyle : KeyStyle.API_KEY, model, this.enabled, this.rpm, this.tpm,
					deployments);
		}

		private List<DeploymentConfig> deployments(String path, String single, ConfigurationProblems problems) {
			if (single != null && !this.deployments.isEmpty()) {
				problems.add(path + ".deployments", "is set together with " + path + ".deployment",
						"Use deployment for one name that serves every request, or deployments to name the deployment "
								+ "of each model (e.g. gpt-4o: gpt-4o-westus), not both.");
			}
			List<DeploymentConfig> list = new ArrayList<>();
			this.deployments.forEach((model, name) -> {
				String target = (name == null) ? "" : name.strip();
				if (!model.matches(DEPLOYMENT_NAME)) {
					problems.add(path + ".deployments", "'" + shown(model) + "' is not a valid model or deployment name",
							"Use the name the application sends, letters, digits, '.', '_', ':' or '-'; in YAML quote "
									+ "a key with other characters in brackets, e.g. \"[my model]\".");
				}
				else if (!target.matches(DEPLOYMENT_NAME)) {
					problems.add(path + ".deployments." + model, "'" + shown(target) + "' is not a valid deployment name",
							"Use the deployment name exactly as shown for this instance, letters, digits, '.', '_', "
									+ "':' or '-' (the same as the key when the name does not differ).");
				}
				else {
					list.add(new DeploymentConfig(model, target, budget(path, "deployment-rpm", model, this.deploymentRpm,
							problems), budget(path, "deployment-tpm", model, this.deploymentTpm, problems)));
				}
			});
			for (String property : List.of("deployment-rpm", "deployment-tpm")) {
				Map<String, Long> budgets = property.equals("deployment-rpm") ? this.deploymentRpm : this.deploymentTpm;
				for (String model : budgets.keySet()) {
					if (!this.deployments.containsKey(model)) {
						problems.add(path + "." + property + "." + model, "names a model not listed under "
								+ path + ".deployments",
								"List it there first (" + model + ": <its deployment name on this backend>), or "
										+ "remove the budget.");
					}
				}
			}
			return list;
		}

		private static long budget(String path, String property, String model, Map<String, Long> budgets,
				ConfigurationProblems problems) {
			Long budget = budgets.get(model);
			if (budget != null && budget < 0) {
				problems.add(path + "." + property + "." + model, "must not be negative",
						"Use 0 (no client-side budget) or the deployment's quota per minute.");
			}
			return (budget != null && budget > 0) ? budget : 0;
		}

		/** Caller-written names appear in errors cut short and without control characters. */
		private static String shown(String name) {
			String cut = (name.length() > 80) ? name.substring(0, 80) + "..." : name;
			return cut.replaceAll("\\p{Cntrl}", "?");
		}

		private URI parseUrl(String path, ConfigurationProblems problems) {
			String fix = "Set it to the instance's base URL, e.g. https://my-instance.openai.azure.com "
					+ "(a path prefix such as https://gateway.example.com/ai is allowed; no query string).";
			if (this.url == null || this.url.isBlank()) {
				problems.add(path, "is missing or blank", fix);
				return null;
			}
			URI uri;
			try {
				uri = new URI(this.url.strip());
			}
			catch (URISyntaxException ex) {
				problems.add(path, "'" + redacted(this.url) + "' is not a valid URL", fix);
				return null;
			}
			String scheme = (uri.getScheme() != null) ? uri.getScheme().toLowerCase(Locale.ROOT) : "";
			if (!scheme.equals("http") && !scheme.equals("https")) {
				problems.add(path, "'" + redacted(this.url) + "' must start with https:// or http://", fix);
				return null;
			}
			if (uri.getHost() == null || uri.getHost().isBlank()) {
				problems.add(path, "'" + redacted(this.url) + "' has no host", fix);
				return null;
			}
			if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
				problems.add(path, "must not contain a query string, fragment or user info", fix);
				return null;
			}
			if (uri.getPort() != -1 && (uri.getPort() < 1 || uri.getPort() > 65535)) {
				problems.add(path, "'" + redacted(this.url) + "' has port " + uri.getPort() + ", outside 1 to 65535",
						"Use the instance's port (443 for https, the default when none is given) or leave it out.");
				return null;
			}
			String prefix = (uri.getRawPath() != null) ? uri.getRawPath() : "";
			while (prefix.endsWith("/")) {
				prefix = prefix.substring(0, prefix.length() - 1);
			}
			// the caller's path (/openai/deployments/{x}/...) is appended to the URL: it would appear twice
			if (prefix.toLowerCase(Locale.ROOT).contains("/openai/deployments")) {
				problems.add(path, "'" + redacted(this.url) + "' already contains /openai/deployments/..., which "
						+ "the caller's request path adds again",
						"Set it to the instance's base URL only, e.g. https://my-instance.openai.azure.com, and name "
								+ "a deployment that differs from the caller's with " + path.replace(".url", ".deployment")
								+ ".");
				return null;
			}
			return URI.create(scheme + "://" + uri.getRawAuthority() + prefix);
		}

	}

	/**
	 * Check that a duration property is positive.
	 * @param value the value
	 * @param property the property name under {@value #PREFIX}, e.g. {@code max-cool-down}
	 * @param example a sensible value to suggest
	 * @throws InvalidConfigurationException naming the property when it is not
	 */
	public static void requirePositive(Duration value, String property, String example) {
		ConfigurationProblems problems = new ConfigurationProblems();
		positive(problems, value, property, example);
		problems.throwIfAny();
	}

	/**
	 * Record a problem when a duration property is not positive.
	 * @param problems where to record it
	 * @param value the value
	 * @param property the property name under {@value #PREFIX}, e.g. {@code max-cool-down}
	 * @param example a sensible value to suggest
	 */
	public static void positive(ConfigurationProblems problems, Duration value, String property, String example) {
		if (value == null || value.isNegative() || value.isZero()) {
			problems.add(PREFIX + "." + property, "must be a positive duration but was " + value,
					"Set " + PREFIX + "." + property + " to a positive duration such as " + example + ".");
		}
	}

	/** A URL as it may be shown: without user info, query or fragment, where credentials could hide. */
	static String redacted(String url) {
		String shown = url.strip();
		int cut = shown.length();
		for (char c : new char[] { '?', '#' }) {
			int at = shown.indexOf(c);
			if (at >= 0 && at < cut) {
				cut = at;
			}
		}
		shown = shown.substring(0, cut);
		int at = shown.lastIndexOf('@');
		if (at >= 0) {
			int start = shown.indexOf("//");
			shown = ((start >= 0 && start < at) ? shown.substring(0, start + 2) : "") + shown.substring(at + 1);
		}
		return shown;
	}

}
