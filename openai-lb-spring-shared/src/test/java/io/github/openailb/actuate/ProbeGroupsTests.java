package io.github.openailb.actuate;

import java.time.Duration;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.autoconfigure.OpenAiLbRedisStateAutoConfiguration;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.Awaits;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.BootLine.WebHealth;
import io.github.openailb.testsupport.RedisServerProcess;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.LivenessState;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.context.ApplicationContext;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Kubernetes probes: {@code /actuator/health/readiness} = {@code readinessState} + {@code openAiLb},
 * {@code /actuator/health/liveness} = {@code livenessState}, so that neither a Redis outage nor
 * the balancer's state gets a healthy pod restarted, and a balancer that can never answer takes the
 * pod out of the load balancer only.
 */
class ProbeGroupsTests {

	private static final WebHealth UP = new WebHealth(200, "UP");

	private static final WebHealth DOWN = new WebHealth(503, "DOWN");

	@Test
	void aRedisOutageTurnsOnlyTheOverallHealthDownNeverTheProbes() {
		try (LoopbackBackends backends = new LoopbackBackends(); RedisServerProcess redis = RedisServerProcess.start()) {
			WireMockServer a = backends.start();
			a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			probes().withConfiguration(AutoConfigurations.of(BootLine.REDIS))
				.withConfiguration(AutoConfigurations.of(BootLine.REDIS_HEALTH))
				.withConfiguration(AutoConfigurations.of(OpenAiLbRedisStateAutoConfiguration.class))
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("openai.lb.state.store=redis", "spring.data.redis.host=127.0.0.1",
						"spring.data.redis.port=" + redis.port(), "spring.data.redis.timeout=1s")
				.run((context) -> {
					started(context);
					assertThat(BootLine.webHealth(context)).isEqualTo(UP);
					assertThat(BootLine.webHealth(context, "redis")).isEqualTo(UP);

					redis.stop();
					// Boot's own redis indicator reports the outage: the overall health is DOWN (503)
					Awaits.until(Duration.ofSeconds(30), () -> DOWN.equals(BootLine.webHealth(context)),
							"the overall health reports Redis down");
					assertThat(BootLine.webHealth(context, "redis")).isEqualTo(DOWN);
					// the balancer carries on from its local state: nothing to restart, nothing to take out
					assertThat(BootLine.webHealth(context, "openAiLbState")).isEqualTo(UP);
					assertThat(BootLine.health(context, "openAiLbStateHealthIndicator").details())
						.containsEntry("store", "degraded");
					assertThat(BootLine.webHealth(context, "liveness")).isEqualTo(UP);
					assertThat(BootLine.webHealth(context, "readiness")).isEqualTo(UP);
					assertThat(LoopbackBackends.call(context)).isEqualTo(200);
				});
		}
	}

	@Test
	void readinessFollowsTheBalancerLivenessDoesNot() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			a.stubFor(post(anyUrl()).willReturn(okJson("{}")));
			probes().withPropertyValues(LoopbackBackends.backend(0, "a", a, 1)).run((context) -> {
				started(context);
				assertThat(BootLine.webHealth(context, "readiness")).isEqualTo(UP);
				context.getBean(LoadBalancer.class).backend("a").breaker().transitionToForcedOpenState();
				assertThat(BootLine.webHealth(context, "openAiLb")).isEqualTo(DOWN);
				assertThat(BootLine.webHealth(context, "readiness")).isEqualTo(DOWN);
				assertThat(BootLine.webHealth(context, "liveness")).isEqualTo(UP);
			});
		}
	}

	@Test
	void onKubernetesTheReadinessGroupFollowsTheBalancerWithoutAnyProperty() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			LoopbackBackends.webContextRunner()
				.withConfiguration(AutoConfigurations.of(BootLine.PROBES))
				.withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("spring.main.cloud-platform=kubernetes")
				.run((context) -> {
					started(context);
					assertThat(BootLine.webHealth(context, "readiness")).isEqualTo(UP);
					context.getBean(LoadBalancer.class).backend("a").breaker().transitionToForcedOpenState();
					assertThat(BootLine.webHealth(context, "readiness")).isEqualTo(DOWN);
				});
		}
	}

	@Test
	void aReadinessGroupOfTheUsersOwnIsLeftAsItIs() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			probes().withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("management.endpoint.health.group.readiness.include=readinessState")
				.run((context) -> {
					started(context);
					context.getBean(LoadBalancer.class).backend("a").breaker().transitionToForcedOpenState();
					assertThat(BootLine.webHealth(context, "openAiLb")).isEqualTo(DOWN);
					assertThat(BootLine.webHealth(context, "readiness")).isEqualTo(UP);
				});
		}
	}

	@Test
	void noProbeGroupsWhereBootCreatesNone() {
		try (LoopbackBackends backends = new LoopbackBackends()) {
			WireMockServer a = backends.start();
			probes().withPropertyValues(LoopbackBackends.backend(0, "a", a, 1))
				.withPropertyValues("management.endpoint.health.probes.enabled=false")
				.run((context) -> {
					assertThat(BootLine.webHealth(context, "readiness").status()).isNull();
					assertThat(BootLine.webHealth(context, "liveness").status()).isNull();
				});
		}
	}

	/** What {@code SpringApplication} publishes once the application has started and is ready. */
	private static void started(ApplicationContext context) {
		AvailabilityChangeEvent.publish(context, LivenessState.CORRECT);
		AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
	}

	/** A reactive web application with the actuator, as one running on Kubernetes has its probes. */
	private static ReactiveWebApplicationContextRunner probes() {
		return LoopbackBackends.webContextRunner()
			.withConfiguration(AutoConfigurations.of(BootLine.PROBES))
			.withPropertyValues("management.endpoint.health.probes.enabled=true");
	}

}
