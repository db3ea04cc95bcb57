package io.github.openailb.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.github.openailb.auth.AuthMode;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.ConfigurationProblems;
import io.github.openailb.core.KeyStyle;
import io.github.openailb.core.StatefulMode;
import io.github.openailb.core.Strategy;
import io.github.openailb.transport.TransportConfig;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.ClassUtils;
import org.springframework.util.unit.DataSize;

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

	/**
	 * How long a backend that timed out (connect or response timeout) is left alone, so that the
	 * next requests do not wait for it again; 0s keeps trying it.
	 */
	private Duration timeoutCoolDown = Duration.ofSeconds(10);

	/**
	 * How a backend is chosen within a priority tier: by weight, or by weight times the quota
	 * it last reported left (headroom).
	 */
	private Strategy strategy = Strategy.HEADROOM;

	// transport limits (issue #16): one bound per request, a pool per backend, a held body

	/**
	 * Longest time one request may take, from the call to the last byte of the answer,
	 * failovers, waits and a streamed body included; a backend still sending then is cut off
	 * and blamed.
	 */
	private Duration maxDuration = Duration.ofMinutes(10);

	/**
	 * Largest request body the balancer holds in memory to replay on failover; a larger one
	 * fails at once, naming this property.
	 */
	private DataSize maxRequestBody = DataSize.ofMegabytes(64);

	/**
	 * Connection pool of the transport, one per backend.
	 */
	private final Pool pool = new Pool();

	/**
	 * Where requests tied to server-side state (files, batches, assistants, stored responses)
	 * go.
	 */
	private final Stateful stateful = new Stateful();

	/**
	 * Microsoft Entra ID settings shared by the backends that authenticate with it.
	 */
	private final Auth auth = new Auth();

	/**
	 * Integration with Spring AI's chat models.
	 */
	private final SpringAi springAi = new SpringAi();

	/**
	 * Where backend state (cool-downs, misconfiguration marks) lives.
	 */
	private final State state = new State();

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

	public Duration getTimeoutCoolDown() {
		return this.timeoutCoolDown;
	}

	public void setTimeoutCoolDown(Duration timeoutCoolDown) {
		this.timeoutCoolDown = timeoutCoolDown;
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

	public Strategy getStrategy() {
		return this.strategy;
	}

	public void setStrategy(Strategy strategy) {
		this.strategy = strategy;
	}

	public Duration getMaxDuration() {
		return this.maxDuration;
	}

	public void setMaxDuration(Duration maxDuration) {
		this.maxDuration = maxDuration;
	}

	public DataSize getMaxRequestBody() {
		return this.maxRequestBody;
	}

	public void setMaxRequestBody(DataSize maxRequestBody) {
		this.maxRequestBody = maxRequestBody;
	}

	public Pool getPool() {
		return this.pool;
	}

	public Stateful getStateful() {
		return this.stateful;
	}

	public Auth getAuth() {
		return this.auth;
	}

	public SpringAi getSpringAi() {
		return this.springAi;
	}

	public State getState() {
		return this.state;
	}

	/**
	 * Fail when the Redis store is chosen but cannot be had: the store would otherwise silently
	 * stay local, and replicas would pay every 429 again.
	 * @param classLoader the application's class loader
	 * @throws io.github.openailb.core.InvalidConfigurationException naming the property
	 */
	void checkStoreAvailable(ClassLoader classLoader) {
		ConfigurationProblems problems = new ConfigurationProblems();
		checkStoreAvailable(classLoader, problems);
		problems.throwIfAny();
	}

	void checkStoreAvailable(ClassLoader classLoader, ConfigurationProblems problems) {
		if (this.state.getStore() != Store.REDIS) {
			return;
		}
		String property = BalancerConfig.PREFIX + ".state.store";
		if (!ClassUtils.isPresent("org.springframework.data.redis.connection.RedisConnectionFactory", classLoader)) {
			problems.add(property, "is redis but Spring Data Redis is not on the classpath",
					"Add org.springframework.boot:spring-boot-starter-data-redis (Lettuce) to the application, "
							+ "or set openai.lb.state.store=local.");
		}
		else if (!ClassUtils.isPresent("io.lettuce.core.RedisClient", classLoader)) {
			// the shared state subscribes through Lettuce; with Jedis alone it would silently stay local
			problems.add(property, "is redis but Lettuce (io.lettuce:lettuce-core) is not on the classpath",
					"Keep Lettuce, which spring-boot-starter-data-redis brings (if you excluded it for Jedis, add "
							+ "io.lettuce:lettuce-core back), or set openai.lb.state.store=local.");
		}
		if (this.state.getNamespace() == null || this.state.getNamespace().isBlank()) {
			problems.add(BalancerConfig.PREFIX + ".state.namespace", "is blank",
					"Set openai.lb.state.namespace to a name shared by the instances of this application");
		}
		if (this.state.getTimeout() == null || this.state.getTimeout().isNegative()
				|| this.state.getTimeout().isZero()) {
			problems.add(BalancerConfig.PREFIX + ".state.timeout", "must be positive",
					"Set openai.lb.state.timeout to a short positive duration such as 500ms");
		}
	}

	/**
	 * Validate and convert to the engine's configuration.
	 * @return the engine configuration
	 * @throws io.github.openailb.core.InvalidConfigurationException naming the property at fault
	 */
	public BalancerConfig toBalancerConfig() {
		BalancerConfig.Builder builder = BalancerConfig.builder()
			.defaultRetryAfter(this.defaultRetryAfter)
			.maxCoolDown(this.maxCoolDown)
			.maxWait(this.maxWait)
			.strategy(this.strategy)
			.timeoutCoolDown(this.timeoutCoolDown);
		for (Backend backend : this.backends) {
			builder.backend(new BalancerConfig.BackendBuilder().name(backend.getName())
				.url(backend.getUrl())
				.priority(backend.getPriority())
				.weight(backend.getWeight())
				.apiKey(backend.getApiKey())
				.keyStyle(backend.getKeyStyle())
				.deployment(backend.getDeployment())
				.deployments(backend.getDeployments())
				.deploymentRpm(backend.getDeploymentRpm())
				.deploymentTpm(backend.getDeploymentTpm())
				.enabled(backend.isEnabled())
				.rpm(backend.getRpm())
				.tpm(backend.getTpm()));
		}
		builder.stateful(this.stateful.getMode(), this.stateful.getBackend());
		return builder.build();
	}

	/**
	 * One backend instance.
	 */
	public static class Backend {

		/**
		 * Unique name of the backend, used in logs, metric tags, health details and as its
		 * circuit-breaker name. Required.
		 */
		private String name;

		/**
		 * Base URL of the instance: scheme, host, optional port and path prefix, e.g.
		 * https://my-instance.openai.azure.com. Required.
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
		 * API key of this instance; it replaces whatever key the caller set.
		 */
		private String apiKey;

		/**
		 * How this backend is authenticated: 'auto' (the api-key if set, else Entra ID for Azure
		 * hosts, else the caller's credential), 'api-key', 'entra' or 'none' (the caller's
		 * credential passes through).
		 */
		private AuthMode auth = AuthMode.AUTO;

		/**
		 * Client id of the user-assigned managed identity that gets this backend's Entra ID
		 * tokens, instead of DefaultAzureCredential.
		 */
		private String managedIdentityClientId;

		/**
		 * How the API key is sent: 'api-key' header (Azure OpenAI) or 'Authorization: Bearer'
		 * (OpenAI and OpenAI-compatible servers).
		 */
		private KeyStyle keyStyle = KeyStyle.API_KEY;

		/**
		 * One deployment name on this instance for every request, when it differs from the one the
		 * caller uses. Shorthand for an instance serving one model; not together with
		 * 'deployments'.
		 */
		private String deployment;

		/**
		 * Models this instance serves: the model (or deployment) name the application sends, mapped
		 * to the deployment's name on this instance, e.g. 'gpt-4o: gpt-4o-westus'. An instance that
		 * lists deployments takes only requests for those models, and keeps cool-downs, quota and
		 * budgets per deployment. Empty: every model, under the caller's name.
		 */
		private Map<String, String> deployments = new LinkedHashMap<>();

		/**
		 * Client-side requests-per-minute budget per deployment, by the model name listed in
		 * 'deployments'.
		 */
		private Map<String, Long> deploymentRpm = new LinkedHashMap<>();

		/**
		 * Client-side tokens-per-minute budget per deployment, by the model name listed in
		 * 'deployments'.
		 */
		private Map<String, Long> deploymentTpm = new LinkedHashMap<>();

		/**
		 * Whether this backend takes traffic.
		 */
		private boolean enabled = true;

		/**
		 * Client-side requests-per-minute budget for an instance that reports no quota headers;
		 * 0 for none.
		 */
		private long rpm;

		/**
		 * Client-side tokens-per-minute budget for an instance that reports no quota headers; 0
		 * for none.
		 */
		private long tpm;

		public long getRpm() {
			return this.rpm;
		}

		public void setRpm(long rpm) {
			this.rpm = rpm;
		}

		public long getTpm() {
			return this.tpm;
		}

		public void setTpm(long tpm) {
			this.tpm = tpm;
		}

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

		public AuthMode getAuth() {
			return this.auth;
		}

		public void setAuth(AuthMode auth) {
			this.auth = auth;
		}

		public String getManagedIdentityClientId() {
			return this.managedIdentityClientId;
		}

		public void setManagedIdentityClientId(String managedIdentityClientId) {
			this.managedIdentityClientId = managedIdentityClientId;
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

		public Map<String, String> getDeployments() {
			return this.deployments;
		}

		public void setDeployments(Map<String, String> deployments) {
			this.deployments = deployments;
		}

		public Map<String, Long> getDeploymentRpm() {
			return this.deploymentRpm;
		}

		public void setDeploymentRpm(Map<String, Long> deploymentRpm) {
			this.deploymentRpm = deploymentRpm;
		}

		public Map<String, Long> getDeploymentTpm() {
			return this.deploymentTpm;
		}

		public void setDeploymentTpm(Map<String, Long> deploymentTpm) {
			this.deploymentTpm = deploymentTpm;
		}

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/**
	 * Validate and convert to the transport's limits.
	 * @return the transport configuration
	 * @throws io.github.openailb.core.InvalidConfigurationException naming the property at fault
	 */
	public TransportConfig toTransportConfig() {
		return TransportConfig.builder()
			.connectTimeout(this.connectTimeout)
			.responseTimeout(this.responseTimeout)
			.maxDuration(this.maxDuration)
			.maxConnections(this.pool.getMaxConnections())
			.maxPendingAcquires(this.pool.getMaxPendingAcquires())
			.maxRequestBody((this.maxRequestBody != null) ? this.maxRequestBody.toBytes() : -1)
			.build();
	}

	/**
	 * Connection pool of the transport. Each backend (host and port) has a pool of its own.
	 */
	public static class Pool {

		/**
		 * Most connections open to one backend at once; each request under way holds one.
		 */
		private int maxConnections = 500;

		/**
		 * Most requests that may wait for a connection to one backend while all are busy; beyond
		 * it an attempt fails at once and the request tries the next backend.
		 */
		private int maxPendingAcquires = 1000;

		public int getMaxConnections() {
			return this.maxConnections;
		}

		public void setMaxConnections(int maxConnections) {
			this.maxConnections = maxConnections;
		}

		public int getMaxPendingAcquires() {
			return this.maxPendingAcquires;
		}

		public void setMaxPendingAcquires(int maxPendingAcquires) {
			this.maxPendingAcquires = maxPendingAcquires;
		}

	}

	/**
	 * Microsoft Entra ID settings.
	 */
	public static class Auth {

		/**
		 * Scope of the Entra ID tokens sent to backends.
		 */
		private String scope = "https://cognitiveservices.azure.com/.default";

		public String getScope() {
			return this.scope;
		}

		public void setScope(String scope) {
			this.scope = scope;
		}

	}

	/**
	 * Where backend state lives: in this instance only, or shared with the application's other
	 * instances through Redis.
	 */
	public static class State {

		/**
		 * Store of cool-downs and misconfiguration marks: local to this instance, or shared
		 * through Redis (spring.data.redis.*) with every instance of the same namespace.
		 */
		private Store store = Store.LOCAL;

		/**
		 * Prefix of the Redis keys and channel; instances share state only within one namespace.
		 */
		private String namespace = "openai-lb";

		/**
		 * Longest wait for any Redis command; requests never wait on Redis at all.
		 */
		private Duration timeout = Duration.ofMillis(500);

		public Store getStore() {
			return this.store;
		}

		public void setStore(Store store) {
			this.store = store;
		}

		public String getNamespace() {
			return this.namespace;
		}

		public void setNamespace(String namespace) {
			this.namespace = namespace;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

	}

	/**
	 * Where requests tied to server-side state go: files, uploads, batches, assistants, threads,
	 * vector stores, fine-tuning, conversations, containers, realtime sessions, evals, videos,
	 * and stored responses (a Responses call unless it says "store": false).
	 */
	public static class Stateful {

		/**
		 * Whether such requests all go to one home backend (never failing over: another backend
		 * does not know the objects) or are balanced like the others.
		 */
		private StatefulMode mode = StatefulMode.HOME;

		/**
		 * Name of the home backend; by default the first enabled backend of the highest
		 * priority, in declaration order.
		 */
		private String backend;

		public StatefulMode getMode() {
			return this.mode;
		}

		public void setMode(StatefulMode mode) {
			this.mode = mode;
		}

		public String getBackend() {
			return this.backend;
		}

		public void setBackend(String backend) {
			this.backend = backend;
		}

	}

	/**
	 * Integration with Spring AI's chat models.
	 */
	public static class SpringAi {

		/**
		 * Retries of the SDK client behind Spring AI's models (the Azure SDK of
		 * AzureOpenAiChatModel on Boot 3, the OpenAI Java SDK on Boot 4); 0 because the balancer
		 * already fails over, and a retrying SDK would sleep on the balancer's 429.
		 */
		private int sdkMaxRetries = 0;

		public int getSdkMaxRetries() {
			return this.sdkMaxRetries;
		}

		public void setSdkMaxRetries(int sdkMaxRetries) {
			this.sdkMaxRetries = sdkMaxRetries;
		}

	}

	/**
	 * Stores of backend state.
	 */
	public enum Store {

		/**
		 * Each instance learns on its own.
		 */
		LOCAL,

		/**
		 * Instances sharing a Redis and a namespace learn from each other.
		 */
		REDIS

	}

}
