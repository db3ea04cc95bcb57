package io.github.openailb.actuate;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.github.openailb.core.Backend;
import io.github.openailb.core.BalancerListener;
import io.github.openailb.core.Outcome;
import io.github.openailb.core.Step;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Micrometer meters of what the balancer does:
 * <ul>
 * <li>{@value #ATTEMPTS} (counter; tags {@code backend}, {@code outcome}): attempts sent to a
 * backend and what their answer meant ({@link Outcome})</li>
 * <li>{@value #ATTEMPT_LATENCY} (timer; tag {@code backend}): time until an attempt's status was
 * known</li>
 * <li>{@value #FAILOVERS} (counter; tags {@code backend}, {@code outcome}): requests that left
 * a backend for another one, and why (trying the same backend again after a wait is no
 * failover)</li>
 * <li>{@value #COOL_DOWNS} (counter; tag {@code backend}): cool-downs started or moved</li>
 * <li>{@value #REQUESTS} (counter; tag {@code ending}): requests by how they ended
 * ({@link Step.Ending}); {@code ending=THROTTLED} counts the calls answered with the synthetic
 * 429, {@code ending=UNAVAILABLE} those answered with the synthetic 503 (every breaker open)</li>
 * <li>{@value #REQUEST_ATTEMPTS} (distribution summary): attempts per request</li>
 * </ul>
 * Every meter is registered up front for the known backends so that recording allocates
 * nothing.
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
	 * Create the meters in the given registry.
	 * @param registry the registry
	 * @param backendNames names of the backends whose meters are registered now
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
		BackendMeters meters = meters(backend.name());
		meters.attempts[outcome.ordinal()].increment();
		meters.latency.record(nanos, TimeUnit.NANOSECONDS);
	}

	@Override
	public void coolDownStarted(Backend backend, Duration duration) {
		meters(backend.name()).coolDowns.increment();
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
		Counter[] attempts = new Counter[OUTCOMES.length];
		Counter[] failovers = new Counter[OUTCOMES.length];
		for (Outcome outcome : OUTCOMES) {
			attempts[outcome.ordinal()] = Counter.builder(ATTEMPTS)
				.description("Attempts sent to a backend, by what the answer meant")
				.tags("backend", backend, "outcome", outcome.name())
				.register(this.registry);
			if (outcome.failsOver()) {
				failovers[outcome.ordinal()] = Counter.builder(FAILOVERS)
					.description("Requests that left a backend for the next one")
					.tags("backend", backend, "outcome", outcome.name())
					.register(this.registry);
			}
		}
		Timer latency = Timer.builder(ATTEMPT_LATENCY)
			.description("Time until an attempt's status was known")
			.tag("backend", backend)
			.register(this.registry);
		Counter coolDowns = Counter.builder(COOL_DOWNS)
			.description("Cool-downs a backend started")
			.tag("backend", backend)
			.register(this.registry);
		return new BackendMeters(attempts, failovers, latency, coolDowns);
	}

	private record BackendMeters(Counter[] attempts, Counter[] failovers, Timer latency, Counter coolDowns) {
	}

}
