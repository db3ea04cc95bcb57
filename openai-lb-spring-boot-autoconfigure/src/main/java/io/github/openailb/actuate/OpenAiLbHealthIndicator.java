package io.github.openailb.actuate;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import io.github.openailb.core.Backend;
import io.github.openailb.core.Headroom;
import io.github.openailb.core.LoadBalancer;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * {@link HealthIndicator} of the balancer: {@code UP} while any backend can take traffic,
 * {@code DOWN} when none can, with what each backend is doing. Shows host names only, never a
 * key, a token, a path or a query string.
 */
public class OpenAiLbHealthIndicator extends AbstractHealthIndicator {

	private final LoadBalancer balancer;

	/**
	 * Create an indicator of the given balancer.
	 * @param balancer the balancer
	 */
	public OpenAiLbHealthIndicator(LoadBalancer balancer) {
		super("openai-lb health check failed");
		this.balancer = balancer;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		if (this.balancer.canTakeTraffic()) {
			builder.up();
		}
		else {
			builder.down();
		}
		Map<String, Object> backends = new LinkedHashMap<>();
		for (Backend backend : this.balancer.backends()) {
			backends.put(backend.name(), details(backend));
		}
		builder.withDetail("backends", backends);
	}

	/** The last quota report, marked stale once its reset has passed. */
	private Map<String, Object> headroom(Headroom headroom) {
		Map<String, Object> details = new LinkedHashMap<>();
		putKnown(details, "remainingRequests", headroom.remainingRequests());
		putKnown(details, "limitRequests", headroom.limitRequests());
		putKnown(details, "remainingTokens", headroom.remainingTokens());
		putKnown(details, "limitTokens", headroom.limitTokens());
		details.put("seenAt", Instant.ofEpochMilli(headroom.seenAt()).toString());
		details.put("fresh", headroom.isFresh(this.balancer.clock().millis()));
		return details;
	}

	private static void putKnown(Map<String, Object> details, String name, long value) {
		if (value >= 0) {
			details.put(name, value);
		}
	}

	private Map<String, Object> details(Backend backend) {
		Map<String, Object> details = new LinkedHashMap<>();
		details.put("host", backend.config().host());
		details.put("priority", backend.config().priority());
		details.put("weight", backend.config().weight());
		details.put("state", backend.state());
		Instant until = backend.coolingDownUntil();
		if (until != null) {
			details.put("coolingDownUntil", until.toString());
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
			details.put("headroom", headroom(headroom));
		}
		return details;
	}

}
