package io.github.openailb.actuate;

import io.github.openailb.core.LoadBalancer;

import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * {@link HealthIndicator} of the balancer: {@code UP} while some backend can answer now or after a
 * wait it announced (throttled backends do not make the application down), {@code DOWN} only when
 * every backend is disabled, misconfigured or forced open (a deployment cooling down or missing on
 * a backend does not count); with what each backend, and each model's deployment on it, is doing
 * (see {@link HealthDetails}). Shows host names only, never a key, a token, a path or a query
 * string.
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
		builder.status(HealthDetails.isUp(this.balancer) ? "UP" : "DOWN").withDetails(HealthDetails.of(this.balancer));
	}

}
