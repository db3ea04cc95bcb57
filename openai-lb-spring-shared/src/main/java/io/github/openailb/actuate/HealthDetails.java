package io.github.openailb.actuate;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.openailb.core.Backend;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.Deployment;
import io.github.openailb.core.Headroom;
import io.github.openailb.core.LoadBalancer;

/**
 * What the health indicators of both Boot lines report, built from the engine's state: the
 * balancer's status and each backend's details. Host names only, never a
 * key, a token, a path or a query string.
 * <p>
 * Throttling is not an outage: a throttled pool answers 429 with Retry-After, and a probe that
 * took every replica out at the peak would make it worse. So the balancer is up while some
 * backend can answer now or after a wait it announced (cooling down, left alone after a timeout,
 * breaker open with a probe due), and down only when none can ever answer without a change:
 * every backend disabled, misconfigured or forced open.
 * <p>
 * A backend that keeps state per model (deployment maps) shows it under {@code deployments}: by
 * the model the application sends, the deployment's {@code name} on that backend, its own
 * {@code state} ({@code AVAILABLE}, {@code COOLING_DOWN} or {@code MISCONFIGURED}), and while they
 * apply {@code coolingDownUntil}, {@code notServed} (why it seems missing there) and its last
 * {@code headroom}. The status stays the backends' affair: a deployment cooling down or missing
 * on one backend does not make the balancer down.
 */
public final class HealthDetails {

	private HealthDetails() {
	}

	/**
	 * Whether the balancer is up: some backend can answer, now or after an announced wait.
	 * @param balancer the balancer
	 * @return {@code true} when up
	 * @see LoadBalancer#canAnswer()
	 */
	public static boolean isUp(LoadBalancer balancer) {
		return balancer.canAnswer();
	}

	/**
	 * The balancer's details: {@code backends}, each backend's state by name, and
	 * {@code statefulBackend}, the home of requests tied to server-side state, unless those are
	 * balanced.
	 * @param balancer the balancer
	 * @return the details
	 */
	public static Map<String, Object> of(LoadBalancer balancer) {
		Map<String, Object> backends = new LinkedHashMap<>();
		for (Backend backend : balancer.backends()) {
			backends.put(backend.name(), details(backend, balancer.clock().millis()));
		}
		Backend home = balancer.statefulHome();
		return (home != null) ? Map.of("backends", backends, "statefulBackend", home.name())
				: Map.of("backends", backends);
	}

	/**
	 * One backend's details, as {@link #of(LoadBalancer)} shows them under its name.
	 * @param backend the backend
	 * @param balancer the balancer it belongs to
	 * @return the details
	 */
	public static Map<String, Object> of(Backend backend, LoadBalancer balancer) {
		return details(backend, balancer.clock().millis());
	}

	/** The last quota report, marked stale once its reset has passed. */
	private static Map<String, Object> headroom(Headroom headroom, long now) {
		Map<String, Object> details = new LinkedHashMap<>();
		putKnown(details, "remainingRequests", headroom.remainingRequests());
		putKnown(details, "limitRequests", headroom.limitRequests());
		putKnown(details, "remainingTokens", headroom.remainingTokens());
		putKnown(details, "limitTokens", headroom.limitTokens());
		details.put("seenAt", Instant.ofEpochMilli(headroom.seenAt()).toString());
		details.put("fresh", headroom.isFresh(now));
		return details;
	}

	private static void putKnown(Map<String, Object> details, String name, long value) {
		if (value >= 0) {
			details.put(name, value);
		}
	}

	private static Map<String, Object> details(Backend backend, long now) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("host", backend.config().host());
		details.put("priority", backend.config().priority());
		details.put("weight", backend.config().weight());
		BackendState state = backend.state();
		details.put("state", state);
		details.put("takesTrafficNow", backend.takesTrafficNow());
		if (backend.isDisabled()) {
			// what an operator's enable can lift, and what it cannot
			details.put("disabledBy", backend.config().enabled() ? "operator" : "configuration");
		}
		Instant until = backend.coolingDownUntil();
		if (until != null) {
			details.put("coolingDownUntil", until.toString());
		}
		Instant probe = (state == BackendState.CIRCUIT_OPEN) ? backend.circuitOpenUntil() : null;
		if (probe != null) {
			details.put("circuitOpenUntil", probe.toString());
		}
		details.put("circuitBreaker", backend.breaker().getState());
		String misconfiguration = backend.misconfiguration();
		if (misconfiguration != null) {
			details.put("misconfiguration", misconfiguration);
		}
		Backend.Counts counts = backend.counts();
		Map<String, Long> attempts = new LinkedHashMap<>();
		attempts.put("total", counts.attempts());
		attempts.put("success", counts.successes());
		attempts.put("throttled", counts.throttled());
		attempts.put("failure", counts.failures());
		attempts.put("misconfigured", counts.misconfigured());
		attempts.put("clientError", counts.clientErrors());
		details.put("attempts", attempts);
		Headroom headroom = backend.headroom();
		if (headroom != null) {
			details.put("headroom", headroom(headroom, now));
		}
		if (!backend.deployments().isEmpty()) {
			Map<String, Object> deployments = new LinkedHashMap<>();
			for (Deployment deployment : backend.deployments()) {
				deployments.put(deployment.model(), details(deployment, now));
			}
			details.put("deployments", deployments);
		}
		return details;
	}

	private static Map<String, Object> details(Deployment deployment, long now) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("name", deployment.name());
		details.put("state", deployment.state());
		Instant until = deployment.coolingDownUntil();
		if (until != null) {
			details.put("coolingDownUntil", until.toString());
		}
		String notServed = deployment.notServed();
		if (notServed != null) {
			details.put("notServed", notServed);
		}
		Headroom headroom = deployment.headroom();
		if (headroom != null) {
			details.put("headroom", headroom(headroom, now));
		}
		return details;
	}

}
