package io.github.openailb.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.core.Backend;
import io.github.openailb.core.BackendState;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.testsupport.RawBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import org.springframework.context.ApplicationContext;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;

import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static io.github.openailb.reliability.BalancedApp.CHAT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hanging backend costs the response timeout once, not on every request: after it timed out it
 * is left alone for {@code openai.lb.timeout-cool-down}. Counted in attempts, not measured in time.
 */
class TimeoutCoolDownTests {

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	@Test
	void afterOneTimeoutTheNextRequestsGoStraightToTheHealthyBackend() throws IOException {
		WireMockServer healthy = healthy();
		try (RawBackend hanging = new RawBackend(TimeoutCoolDownTests::hang)) {
			BalancedApp.runner()
				.withPropertyValues("openai.lb.response-timeout=1s")
				.withPropertyValues(BalancedApp.backend(0, "hanging", hanging.url(), 1))
				.withPropertyValues(BalancedApp.backend(1, "healthy", healthy.baseUrl(), 2))
				.run((context) -> {
					for (int i = 0; i < 4; i++) {
						assertThat(call(context)).isEqualTo("{\"from\":\"healthy\"}");
						assertThat(BalancedApp.webClient(context).post()
							.uri(CHAT)
							.bodyValue("{}")
							.retrieve()
							.bodyToMono(String.class)
							.block()).isEqualTo("{\"from\":\"healthy\"}");
					}
					Backend backend = context.getBean(LoadBalancer.class).backend("hanging");
					assertThat(backend.counts().attempts()).isEqualTo(1);
					assertThat(backend.counts().failures()).isEqualTo(1);
					assertThat(hanging.requests()).isEqualTo(1);
					assertThat(backend.state()).isEqualTo(BackendState.CIRCUIT_OPEN);
					assertThat(backend.circuitOpenUntil()).isNotNull();
					assertThat(healthy.getAllServeEvents()).hasSize(8);
				});
		}
	}

	@Test
	void withTheCoolDownSwitchedOffEveryRequestWaitsForTheHangingBackendAgain() throws IOException {
		WireMockServer healthy = healthy();
		try (RawBackend hanging = new RawBackend(TimeoutCoolDownTests::hang)) {
			BalancedApp.runner()
				.withPropertyValues("openai.lb.response-timeout=1s", "openai.lb.timeout-cool-down=0s")
				.withPropertyValues(BalancedApp.backend(0, "hanging", hanging.url(), 1))
				.withPropertyValues(BalancedApp.backend(1, "healthy", healthy.baseUrl(), 2))
				.run((context) -> {
					for (int i = 0; i < 3; i++) {
						assertThat(call(context)).isEqualTo("{\"from\":\"healthy\"}");
					}
					Backend backend = context.getBean(LoadBalancer.class).backend("hanging");
					assertThat(backend.counts().attempts()).isEqualTo(3);
					assertThat(backend.state()).isEqualTo(BackendState.AVAILABLE);
				});
		}
	}

	/** A backend that answers at once, warmed up: a cold JVM's first exchange may outlast a short timeout. */
	@Test
	void aRequestWhoseEveryBackendTimedOutGets503WithTheTimeUntilTheFirstProbe() throws IOException {
		// only to warm the JVM up: a cold first exchange may outlast the short timeout
		healthy();
		try (RawBackend one = new RawBackend(TimeoutCoolDownTests::hang);
				RawBackend two = new RawBackend(TimeoutCoolDownTests::hang)) {
			BalancedApp.runner()
				.withPropertyValues("openai.lb.response-timeout=1s", "openai.lb.timeout-cool-down=30s")
				.withPropertyValues(BalancedApp.backend(0, "one", one.url(), 1))
				.withPropertyValues(BalancedApp.backend(1, "two", two.url(), 2))
				.run((context) -> {
					ResponseEntity<String> first = unavailable(context);
					// whichever of the transport's two response timers fires first names the timeout
					String timedOut = ": (TimeoutException \\(no response within 1000 ms\\)|ReadTimeoutException)";
					assertThat(first.getBody()).containsPattern("one" + timedOut).containsPattern("two" + timedOut);
					ResponseEntity<String> next = unavailable(context);
					assertThat(next.getBody()).contains("one: CIRCUIT_OPEN", "two: CIRCUIT_OPEN");
					// the second request waited for neither
					LoadBalancer balancer = context.getBean(LoadBalancer.class);
					assertThat(balancer.backend("one").counts().attempts()).isEqualTo(1);
					assertThat(balancer.backend("two").counts().attempts()).isEqualTo(1);
				});
		}
	}

	/** A call answered with the synthetic 503 and the seconds until a backend is probed again. */
	private static ResponseEntity<String> unavailable(ApplicationContext context) {
		ResponseEntity<String> answer = BalancedApp.webClient(context).post()
			.uri(CHAT)
			.bodyValue("{}")
			.exchangeToMono((response) -> response.toEntity(String.class))
			.block();
		assertThat(answer.getStatusCode().value()).isEqualTo(503);
		assertThat(answer.getHeaders().getFirst("x-openai-lb")).isEqualTo("unavailable");
		assertThat(Long.parseLong(answer.getHeaders().getFirst("Retry-After"))).isBetween(1L, 30L);
		return answer;
	}

	private WireMockServer healthy() {
		WireMockServer healthy = this.backends.start();
		healthy.stubFor(post(anyUrl()).willReturn(okJson("{\"from\":\"healthy\"}")));
		BalancedApp.runner()
			.withPropertyValues("openai.lb.response-timeout=60s")
			.withPropertyValues(BalancedApp.backend(0, "healthy", healthy.baseUrl(), 1))
			.run((context) -> assertThat(call(context)).isEqualTo("{\"from\":\"healthy\"}"));
		healthy.resetRequests();
		return healthy;
	}

	private static String call(ApplicationContext context) {
		RestClient client = BalancedApp.restClient(context);
		return client.post().uri(CHAT).body("{}").retrieve().body(String.class);
	}

	/** Read the request and never answer, until the client gives up and closes the connection. */
	static void hang(Socket socket) throws IOException {
		socket.setSoTimeout(60_000);
		InputStream in = socket.getInputStream();
		try {
			while (in.read() != -1) {
				// discard
			}
		}
		catch (SocketTimeoutException ex) {
			// the test is over
		}
	}

}
