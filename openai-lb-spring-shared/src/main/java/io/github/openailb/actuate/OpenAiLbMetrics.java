package io.github.openailb.actuate;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.github.openailb.core.Backend;
import io.github.openailb.core.BackendConfig;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.BalancerListener;
import io.github.openailb.core.DeploymentConfig;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.Step;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Micrometer meters of what the balancer does:
 * <ul>
 * <li>{@value #ATTEMPTS} (counter; tags {@code backend}, {@code deployment}, {@code outcome}):
 * attempts sent to a backend and what their answer meant ({@link Outcome})</li>
 * <li>{@value #ATTEMPT_LATENCY} (timer; tags {@code backend}, {@code deployment}): time until an
 * attempt's status was known</li>
 * <li>{@value #FAILOVERS} (counter; tags {@code backend}, {@code outcome}): requests that left
 * a backend for another one, and why (trying the same backend again after a wait is no
 * failover)</li>
 * <li>{@value #COOL_DOWNS} (counter; tag {@code backend}): cool-downs of a whole backend started or
 * moved</li>
 * <li>{@value #DEPLOYMENT_COOL_DOWNS} (counter; tags {@code backend}, {@code deployment}): cool-downs
 * of one model's deployment on a backend started or moved (its other deployments kept going)</li>
 * <li>{@value #REQUESTS} (counter; tag {@code ending}): requests by how they ended
 * ({@link Step.Ending}); {@code ending=THROTTLED} counts the calls answered with the synthetic
 * 429, {@code ending=UNAVAILABLE} those answered with the synthetic 503 (every breaker open)</li>
 * <li>{@value #REQUEST_ATTEMPTS} (distribution summary): attempts per request</li>
 * </ul>
 * The {@code deployment} tag is the model the application sent when the attempt went to that
 * model's deployment on the backend (with deployment maps, see {@link LoadBalancer#models()}),
 * else {@value #OTHER}: its values are bounded by configuration, never by what callers send.
 * Every meter is registered up front for the known backends and their deployments so that
 * recording allocates nothing.
 */
public class OpenAiLbMetrics implements BalancerListener {

	/** Name of the attempts counter. */
	public static final String ATTEMPTS = "openai.lb.attempts";

	/** Name of the attempt latency timer. */
	public static final String ATTEMPT_LATENCY = "openai.lb.attempt.latency";

	/** Name of the failovers counter. */
	public static final String FAILOVERS = "openai.lb.failovers";

	/** Name of the cool-downs counter. */
	public static final String COOL_DOWNS = "openai.lb.cooldowns";

	/** Name of the counter of cool-downs of one deployment. */
	public static final String DEPLOYMENT_COOL_DOWNS = "openai.lb.deployment.cooldowns";

	/** The {@code deployment} tag of an attempt that went to no model's deployment of its own. */
	public static final String OTHER = "other";

	/** Name of the requests counter. */
	public static final String REQUESTS = "openai.lb.requests";

	/** Name of the attempts-per-request distribution summary. */
	public static final String REQUEST_ATTEMPTS = "openai.lb.request.attempts";

	private static final Outcome[] OUTCOMES = Outcome.values();

	private static final Step.Ending[] ENDINGS = Step.Ending.values();

	private final MeterRegistry registry;

	private final Map<String, BackendMeters> backends = new ConcurrentHashMap<>();

	private final Counter[] requests;

	private final DistributionSummary requestAttempts;

	/**
	 * Create the meters in the given registry, those of each backend and its deployments up front.
	 * @param registry the registry
	 * @param config the configuration the balancer is built from
	 */
	public OpenAiLbMetrics(MeterRegistry registry, BalancerConfig config) {
		this(registry, config.backends().stream().map(BackendConfig::name).toList());
		List<String> models = config.models();
		for (BackendConfig backend : config.backends()) {
			BackendMeters meters = meters(backend.name());
			for (DeploymentConfig deployment : backend.deploymentsAmong(models)) {
				if (deployment != null) {
					meters.deployment(deployment.model());
				}
			}
		}
	}

	/**
	 * Create the meters in the given registry.
	 * @param registry the registry
	 * @param backendNames names of the backends whose meters are registered now; meters
	 * of their deployments are registered as the engine names them
	 */
	public OpenAiLbMetrics(MeterRegistry registry, Collection<String> backendNames) {
		this.registry = registry;
		this.requests = new Counter[ENDINGS.length];
		for (Step.Ending ending : ENDINGS) {
			this.requests[ending.ordinal()] = Counter.builder(REQUESTS)
				.description("Requests sent through openai-lb, by how they ended")
				.tag("ending", ending.name())
				.register(registry);
		}
		this.requestAttempts = DistributionSummary.builder(REQUEST_ATTEMPTS)
			.description("Attempts made per request")
			.register(registry);
		for (String name : backendNames) {
			meters(name);
		}
	}

	@Override
	public void attemptEnded(Backend backend, Outcome outcome, long nanos) {
		meters(backend.name()).other.record(outcome, nanos);
	}

	@Override
	public void attemptEnded(Backend backend, String model, Outcome outcome, long nanos) {
		BackendMeters meters = meters(backend.name());
		((model != null) ? meters.deployment(model) : meters.other).record(outcome, nanos);
	}

	@Override
	public void coolDownStarted(Backend backend, Duration duration) {
		meters(backend.name()).coolDowns.increment();
	}

	@Override
	public void coolDownStarted(Backend backend, String model, Duration duration) {
		meters(backend.name()).deployment(model).coolDowns.increment();
	}

	@Override
	public void failedOver(Backend from, Outcome outcome) {
		meters(from.name()).failovers[outcome.ordinal()].increment();
	}

	@Override
	public void requestEnded(int attempts, Step.Ending ending) {
		this.requests[ending.ordinal()].increment();
		this.requestAttempts.record(attempts);
	}

	private BackendMeters meters(String backend) {
		BackendMeters meters = this.backends.get(backend);
		// only a backend unknown at start-up pays for a lookup that registers
		return (meters != null) ? meters : this.backends.computeIfAbsent(backend, this::register);
	}

	private BackendMeters register(String backend) {
		Counter[] failovers = new Counter[OUTCOMES.length];
		for (Outcome outcome : OUTCOMES) {
			if (outcome.failsOver()) {
				failovers[outcome.ordinal()] = Counter.builder(FAILOVERS)
					.description("Requests that left a backend for the next one")
					.tags("backend", backend, "outcome", outcome.name())
					.register(this.registry);
			}
		}
		Counter coolDowns = Counter.builder(COOL_DOWNS)
			.description("Cool-downs a backend started")
			.tag("backend", backend)
			.register(this.registry);
		return new BackendMeters(backend, failovers, coolDowns, attemptMeters(backend, OTHER, null));
	}

	private AttemptMeters attemptMeters(String backend, String deployment, Counter coolDowns) {
		Counter[] attempts = new Counter[OUTCOMES.length];
		for (Outcome outcome : OUTCOMES) {
			attempts[outcome.ordinal()] = Counter.builder(ATTEMPTS)
				.description("Attempts sent to a backend, by what the answer meant")
				.tags("backend", backend, "deployment", deployment, "outcome", outcome.name())
				.register(this.registry);
		}
		Timer latency = Timer.builder(ATTEMPT_LATENCY)
			.description("Time until an attempt's status was known")
			.tags("backend", backend, "deployment", deployment)
			.register(this.registry);
		return new AttemptMeters(attempts, latency, coolDowns);
	}

	/** A backend's meters; those of a deployment are registered once, when first named. */
	private final class BackendMeters {

		private final String backend;

		private final Counter[] failovers;

		private final Counter coolDowns;

		private final AttemptMeters other;

		/**
		 * By model: the engine names only models of {@link LoadBalancer#models()}, so this stays
		 * as small as the configuration.
		 */
		private final Map<String, AttemptMeters> deployments = new ConcurrentHashMap<>();

		BackendMeters(String backend, Counter[] failovers, Counter coolDowns, AttemptMeters other) {
			this.backend = backend;
			this.failovers = failovers;
			this.coolDowns = coolDowns;
			this.other = other;
		}

		AttemptMeters deployment(String model) {
			AttemptMeters meters = this.deployments.get(model);
			return (meters != null) ? meters : this.deployments.computeIfAbsent(model, this::register);
		}

		private AttemptMeters register(String model) {
			Counter coolDowns = Counter.builder(DEPLOYMENT_COOL_DOWNS)
				.description("Cool-downs one model's deployment on a backend started")
				.tags("backend", this.backend, "deployment", model)
				.register(OpenAiLbMetrics.this.registry);
			return attemptMeters(this.backend, model, coolDowns);
		}

	}

	/** The meters of attempts to one deployment of a backend, or to none ({@value #OTHER}). */
	private record AttemptMeters(Counter[] attempts, Timer latency, Counter coolDowns) {

		void record(Outcome outcome, long nanos) {
			this.attempts[outcome.ordinal()].increment();
			this.latency.record(nanos, TimeUnit.NANOSECONDS);
		}

	}

}
