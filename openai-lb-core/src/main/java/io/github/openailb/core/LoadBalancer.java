package io.github.openailb.core;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.random.RandomGenerator;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The balancing engine: backends, their shared live state, and the choice of backend for each
 * attempt of each request. Transport-neutral: adapters ask {@link #begin()} for an
 * {@link Exchange} per request and report what each attempt answered. Thread-safe and
 * lock-free; one instance serves every client of an application.
 */
public final class LoadBalancer {

	private static final Logger logger = LoggerFactory.getLogger(LoadBalancer.class);

	private final BalancerConfig config;

	private final List<Backend> backends;

	/** Backends sorted by priority, best first, for selection. */
	private final Backend[] byPriority;

	/** The priority of each backend in {@link #byPriority}, read without reaching each one's configuration. */
	private final int[] priorities;

	/**
	 * The full weight of each backend in {@link #byPriority} under the strategy, likewise: what
	 * {@link Backend#effectiveWeight} gives when no headroom lowers it.
	 */
	private final long[] weights;

	private final Clock clock;

	private final RandomGenerator random;

	private final BalancerListener listener;

	private final SharedState sharedState;

	/** Where stateful requests go, {@code null} when they are balanced like the others. */
	private final Backend statefulHome;

	/** Every model some backend's deployment map lists, in configuration order. */
	private final List<String> models;

	private final Map<String, Integer> modelIndex;

	/** Whether some backend serves each known model, by index. */
	private final boolean[] served;

	/** Whether some backend takes a model no map lists: one without a deployment map. */
	private final boolean unlistedServed;

	private LoadBalancer(Builder builder) {
		this.config = builder.config;
		this.clock = builder.clock;
		this.random = builder.random;
		this.listener = builder.listener;
		Function<String, CircuitBreaker> breakers = (builder.breakers != null) ? builder.breakers
				: CircuitBreakerRegistry.of(defaultBreakerConfig(this.clock))::circuitBreaker;
		this.models = this.config.models();
		this.modelIndex = new HashMap<>();
		this.models.forEach((model) -> this.modelIndex.put(model, this.modelIndex.size()));
		List<Backend> all = new ArrayList<>();
		for (BackendConfig backend : this.config.backends()) {
			all.add(new Backend(backend, all.size(), breakers.apply(backend.name()), this.clock, this.models));
		}
		this.served = new boolean[this.models.size()];
		boolean unlisted = false;
		for (Backend backend : all) {
			unlisted |= backend.config().deployments().isEmpty();
			for (int i = 0; i < this.served.length; i++) {
				this.served[i] |= backend.serves(i, true);
			}
		}
		this.unlistedServed = unlisted;
		this.backends = List.copyOf(all);
		this.byPriority = all.stream()
			.sorted(Comparator.comparingInt((Backend b) -> b.config().priority()))
			.toArray(Backend[]::new);
		this.priorities = new int[this.byPriority.length];
		this.weights = new long[this.byPriority.length];
		for (int i = 0; i < this.byPriority.length; i++) {
			this.priorities[i] = this.byPriority[i].config().priority();
			long weight = this.byPriority[i].config().weight();
			this.weights[i] = (this.config.strategy() == Strategy.HEADROOM) ? weight * 1000 : weight;
		}
		this.sharedState = builder.sharedState;
		this.statefulHome = (this.config.stateful().mode() == StatefulMode.HOME) ? backend(this.config.stateful().backend())
				: null;
		this.sharedState.start(new RemoteNews(this));
	}

	/**
	 * Start building a balancer.
	 * @param config the validated configuration
	 * @return a builder
	 */
	public static Builder builder(BalancerConfig config) {
		return new Builder(config);
	}

	/**
	 * The breaker settings used when the application configures none: open at 50% failures over
	 * the last 20 attempts (at least 10), stay open 30s, probe with 3 calls.
	 * @param clock the clock the breakers read, the balancer's own
	 * @return the breaker configuration
	 */
	public static CircuitBreakerConfig defaultBreakerConfig(Clock clock) {
		return CircuitBreakerConfig.custom()
			.slidingWindowSize(20)
			.minimumNumberOfCalls(10)
			.failureRateThreshold(50)
			.waitDurationInOpenState(Duration.ofSeconds(30))
			.permittedNumberOfCallsInHalfOpenState(3)
			.clock(clock)
			.build();
	}

	/**
	 * Begin one request.
	 * @return the request's exchange, to be used by one thread (or one reactive chain) at a time
	 */
	public Exchange begin() {
		return new Exchange(this, 0, null, null);
	}

	/**
	 * Begin one request whose size is known, so quota-aware choice can pass over backends that
	 * cannot take it.
	 * @param estimatedTokens the request's estimated tokens, see {@link TokenEstimate}
	 * @return the request's exchange, to be used by one thread (or one reactive chain) at a time
	 */
	public Exchange begin(long estimatedTokens) {
		return new Exchange(this, estimatedTokens, null, null);
	}

	/**
	 * Begin one request for a model: only backends that serve it are tried, and its state (cool-down,
	 * quota, budget) is the model's deployment on each backend.
	 * @param estimatedTokens the request's estimated tokens, see {@link TokenEstimate}
	 * @param model the model or deployment name the application sends, or {@code null} for none
	 * @return the request's exchange, to be used by one thread (or one reactive chain) at a time
	 */
	public Exchange begin(long estimatedTokens, String model) {
		return new Exchange(this, estimatedTokens, null, model);
	}

	/**
	 * Begin one request, judged by what it asks: its size steers quota-aware choice, and a request
	 * tied to server-side state (see {@link StatefulRequests}) goes to the stateful home backend
	 * only, never fails over, and ends in a clear {@link Step.Ending#STATEFUL_UNAVAILABLE} when that
	 * backend cannot take it.
	 * @param method the HTTP method
	 * @param rawPathAndQuery the caller's path and query
	 * @param body the request body
	 * @return the request's exchange, to be used by one thread (or one reactive chain) at a time
	 */
	public Exchange begin(String method, String rawPathAndQuery, byte[] body) {
		Backend home = (this.statefulHome != null && StatefulRequests.isStateful(method, rawPathAndQuery, body))
				? this.statefulHome : null;
		// the model only matters when deployment maps make state per model: no parsing otherwise
		String model = this.models.isEmpty() ? null : RequestTarget.model(rawPathAndQuery, body);
		return new Exchange(this, TokenEstimate.of(body), home, model);
	}

	/**
	 * Return every model some backend's deployment map lists, in configuration order: the models
	 * whose state is kept per backend, and the values of the {@code deployment} metric tag.
	 * @return the models, empty when no backend has a deployment map
	 */
	public List<String> models() {
		return this.models;
	}

	/** Index of a listed model, -1 for a model no map lists or none. */
	int modelIndex(String model) {
		if (model == null || this.models.isEmpty()) {
			return -1;
		}
		Integer index = this.modelIndex.get(model);
		return (index != null) ? index : -1;
	}

	/** Whether some backend, enabled or not, takes requests for this model. */
	boolean serves(int model) {
		return (model >= 0) ? this.served[model] : this.unlistedServed;
	}

	/**
	 * Return the backend that takes every request tied to server-side state.
	 * @return the home backend, or {@code null} when such requests are balanced
	 */
	public Backend statefulHome() {
		return this.statefulHome;
	}

	/**
	 * Return the configuration.
	 * @return the configuration
	 */
	public BalancerConfig config() {
		return this.config;
	}

	/**
	 * Return the backends in declaration order.
	 * @return the backends
	 */
	public List<Backend> backends() {
		return this.backends;
	}

	/**
	 * Find a backend by name.
	 * @param name the name
	 * @return the backend, or {@code null}
	 */
	public Backend backend(String name) {
		for (Backend backend : this.backends) {
			if (backend.name().equals(name)) {
				return backend;
			}
		}
		return null;
	}

	/**
	 * Whether any backend could take a request now.
	 * @return {@code true} if some backend is available
	 */
	public boolean canTakeTraffic() {
		long now = this.clock.millis();
		for (Backend backend : this.backends) {
			if (backend.selectable(now)) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Whether some backend can answer now or after a wait it announced (a cool-down, a breaker
	 * waiting for its probe); {@code false} only when every backend is disabled, misconfigured or
	 * forced open, so that no request can succeed until something changes.
	 * @return {@code true} if some backend can answer, now or later
	 * @see Backend#canAnswer()
	 */
	public boolean canAnswer() {
		for (Backend backend : this.backends) {
			if (backend.canAnswer()) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Take a backend out of rotation at runtime (drain it), on top of its configuration:
	 * requests already on it finish, no new attempt goes to it, and it shows as
	 * {@link BackendState#DISABLED} until {@link #enable} lifts it. Shared with the other
	 * instances through the {@link SharedState}. Repeating it is harmless (and refreshes the
	 * shared record).
	 * @param name the backend's name
	 * @return {@code false} if no backend has that name
	 */
	public boolean disable(String name) {
		Backend backend = backend(name);
		if (backend == null) {
			return false;
		}
		if (backend.disableByOperator(true)) {
			logger.info("openai-lb: backend '{}' disabled by an operator", name);
		}
		this.sharedState.disabledByOperator(name, true);
		return true;
	}

	/**
	 * Lift an operator's {@link #disable}. Only that: a backend disabled in configuration
	 * ({@code enabled=false}, possibly without credentials) stays disabled, see
	 * {@link BackendConfig#enabled()}. Shared with the other instances.
	 * @param name the backend's name
	 * @return {@code false} if no backend has that name
	 */
	public boolean enable(String name) {
		Backend backend = backend(name);
		if (backend == null) {
			return false;
		}
		if (backend.disableByOperator(false)) {
			logger.info("openai-lb: backend '{}' enabled again by an operator", name);
		}
		this.sharedState.disabledByOperator(name, false);
		return true;
	}

	/**
	 * Forget a backend's past trouble, so the next request may try it: end its cool-down,
	 * close its circuit breaker if it is open or half-open (not if forced open), and drop its
	 * misconfiguration mark and last quota report. Whatever the backend answers afterwards
	 * counts again: a hint or mark that arrives while the reset runs wins over it. Does not
	 * lift a {@link #disable}. Shared with the other instances.
	 * @param name the backend's name
	 * @return {@code false} if no backend has that name
	 */
	public boolean reset(String name) {
		Backend backend = backend(name);
		if (backend == null) {
			return false;
		}
		backend.reset();
		logger.info("openai-lb: backend '{}' reset by an operator (cool-down, breaker and marks cleared)", name);
		this.sharedState.reset(name);
		return true;
	}

	/**
	 * Return the clock cool-downs and quota reports are read against.
	 * @return the clock
	 */
	public Clock clock() {
		return this.clock;
	}

	BalancerListener listener() {
		return this.listener;
	}

	SharedState sharedState() {
		return this.sharedState;
	}

	Backend[] byPriority() {
		return this.byPriority;
	}

	int[] priorities() {
		return this.priorities;
	}

	long[] weights() {
		return this.weights;
	}

	long nextLong(long bound) {
		if (bound == 1) {
			return 0;
		}
		return (this.random != null) ? this.random.nextLong(bound)
				: java.util.concurrent.ThreadLocalRandom.current().nextLong(bound);
	}

	/**
	 * Builds a {@link LoadBalancer}.
	 */
	public static final class Builder {

		private final BalancerConfig config;

		private Clock clock = Clock.systemUTC();

		private RandomGenerator random;

		private Function<String, CircuitBreaker> breakers;

		private BalancerListener listener = BalancerListener.NONE;

		private SharedState sharedState = SharedState.LOCAL;

		private Builder(BalancerConfig config) {
			this.config = Objects.requireNonNull(config, "config");
		}

		/**
		 * Use this clock for cool-downs (tests pass a controllable one).
		 * @param clock the clock
		 * @return this builder
		 */
		public Builder clock(Clock clock) {
			this.clock = Objects.requireNonNull(clock, "clock");
			return this;
		}

		/**
		 * Use this random source for weighted choice; by default each thread uses its own.
		 * @param random a thread-safe random source, e.g. a seeded {@link java.util.Random}
		 * @return this builder
		 */
		public Builder random(RandomGenerator random) {
			this.random = random;
			return this;
		}

		/**
		 * Take each backend's circuit breaker from this function, e.g.
		 * {@code registry::circuitBreaker}. The breakers must read the same clock as the balancer.
		 * @param breakers breaker by backend name
		 * @return this builder
		 */
		public Builder circuitBreakers(Function<String, CircuitBreaker> breakers) {
			this.breakers = breakers;
			return this;
		}

		/**
		 * Report to this listener.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder listener(BalancerListener listener) {
			this.listener = Objects.requireNonNull(listener, "listener");
			return this;
		}

		/**
		 * Share cool-downs and misconfiguration marks with other application instances.
		 * @param sharedState the shared state store
		 * @return this builder
		 */
		public Builder sharedState(SharedState sharedState) {
			this.sharedState = Objects.requireNonNull(sharedState, "sharedState");
			return this;
		}

		/**
		 * Build the balancer.
		 * @return the balancer
		 */
		public LoadBalancer build() {
			return new LoadBalancer(this);
		}

	}

}
