package io.github.openailb.transport;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpServer;
import io.github.openailb.auth.ApiKeyCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.core.Strategy;
import io.github.openailb.testsupport.MutableClock;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.web.reactive.function.client.WebClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Quota-aware routing over loopback: two backends enforce token budgets per one-minute window
 * and report what is left, as Azure OpenAI does. The same load runs with each strategy; the
 * headroom strategy must cause at most half the backend 429s at equal goodput.
 */
class HeadroomRoutingTests {

	private static final int WINDOWS = 4;

	private static final int REQUESTS_PER_WINDOW = 90;

	/** Asks for 80 completion tokens; with its prompt the balancer estimates about 100. */
	private static final String BODY = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":80}";

	@Test
	void headroomHalvesBackend429sAtEqualGoodput() throws IOException {
		Result weighted = run(Strategy.WEIGHTED);
		Result headroom = run(Strategy.HEADROOM);
		System.out.printf("weighted: %d/%d answered, %d backend 429s; headroom: %d/%d answered, %d backend 429s%n",
				weighted.successes(), WINDOWS * REQUESTS_PER_WINDOW, weighted.backend429s(), headroom.successes(),
				WINDOWS * REQUESTS_PER_WINDOW, headroom.backend429s());
		assertThat(weighted.successes()).isEqualTo(WINDOWS * REQUESTS_PER_WINDOW);
		assertThat(headroom.successes()).isGreaterThanOrEqualTo(weighted.successes());
		assertThat(weighted.backend429s()).isGreaterThan(0);
		assertThat(headroom.backend429s() * 2).isLessThanOrEqualTo(weighted.backend429s());
	}

	private Result run(Strategy strategy) throws IOException {
		MutableClock clock = new MutableClock();
		try (TokenBudgetBackend small = new TokenBudgetBackend(2_000, clock);
				TokenBudgetBackend large = new TokenBudgetBackend(8_000, clock);
				ReactorTransport transport = new ReactorTransport(TransportConfig.builder()
					.connectTimeout(Duration.ofSeconds(1))
					.responseTimeout(Duration.ofSeconds(5))
					.build(), (client) -> client)) {
			BalancerConfig config = BalancerConfig.builder()
				.strategy(strategy)
				.backend(new BalancerConfig.BackendBuilder().name("small").url(small.url()))
				.backend(new BalancerConfig.BackendBuilder().name("large").url(large.url()))
				.build();
			LoadBalancer balancer = LoadBalancer.builder(config)
				.clock(clock)
				.random(new Random(11))
				.circuitBreakers(CircuitBreakerRegistry.of(LoadBalancer.defaultBreakerConfig(clock))::circuitBreaker)
				.build();
			BalancingClientHttpConnector connector = new BalancingClientHttpConnector(balancer, transport,
					new ApiKeyCredentials(config.backends()), TransportConfig.builder().responseTimeout(Duration.ofSeconds(5)).build(),
					transport);
			WebClient client = WebClient.builder()
				.clientConnector(connector)
				.baseUrl(BalancingClientHttpConnector.BASE_URL)
				.build();
			int successes = 0;
			for (int window = 0; window < WINDOWS; window++) {
				for (int i = 0; i < REQUESTS_PER_WINDOW; i++) {
					Integer status = client.post()
						.uri("/openai/deployments/d/chat/completions")
						.bodyValue(BODY)
						.exchangeToMono((response) -> response.releaseBody().thenReturn(response.statusCode().value()))
						.block(Duration.ofSeconds(10));
					successes += (status == 200) ? 1 : 0;
				}
				clock.advance(Duration.ofMinutes(1));
			}
			return new Result(successes, small.throttled.get() + large.throttled.get());
		}
	}

	record Result(int successes, int backend429s) {
	}

	/** Charges 100 tokens per request against a budget per clock minute and reports the rest. */
	static final class TokenBudgetBackend implements AutoCloseable {

		private final HttpServer server;

		private final AtomicInteger throttled = new AtomicInteger();

		private long window = -1;

		private long used;

		TokenBudgetBackend(long budget, MutableClock clock) throws IOException {
			this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
			this.server.createContext("/", (exchange) -> {
				exchange.getRequestBody().readAllBytes();
				long now = clock.millis();
				long remainingMillis;
				boolean ok;
				long left;
				synchronized (this) {
					if (now / 60_000 != this.window) {
						this.window = now / 60_000;
						this.used = 0;
					}
					ok = this.used + 100 <= budget;
					if (ok) {
						this.used += 100;
					}
					left = budget - this.used;
					remainingMillis = 60_000 - (now % 60_000);
				}
				exchange.getResponseHeaders().set("x-ratelimit-remaining-tokens", Long.toString(left));
				exchange.getResponseHeaders().set("x-ratelimit-limit-tokens", Long.toString(budget));
				exchange.getResponseHeaders().set("x-ratelimit-reset-tokens", (remainingMillis / 1000) + "s");
				byte[] body;
				if (ok) {
					body = "{\"choices\":[]}".getBytes(StandardCharsets.UTF_8);
					exchange.sendResponseHeaders(200, body.length);
				}
				else {
					this.throttled.incrementAndGet();
					exchange.getResponseHeaders().set("retry-after-ms", Long.toString(remainingMillis));
					body = "{\"error\":{\"code\":\"429\"}}".getBytes(StandardCharsets.UTF_8);
					exchange.sendResponseHeaders(429, body.length);
				}
				exchange.getResponseBody().write(body);
				exchange.close();
			});
			this.server.start();
		}

		String url() {
			return "http://127.0.0.1:" + this.server.getAddress().getPort();
		}

		@Override
		public void close() {
			this.server.stop(0);
		}

	}

}
