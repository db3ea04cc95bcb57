package io.github.openailb.demo.boot4;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Boot 4 demo as a user runs it: the application with its simulated instances, called over
 * HTTP on loopback.
 */
class Boot4DemoTests {

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private ConfigurableApplicationContext context;

	private String base;

	@BeforeEach
	void start() {
		this.context = Boot4DemoApplication.run("--server.port=0", "--server.address=127.0.0.1");
		int port = ((WebServerApplicationContext) this.context).getWebServer().getPort();
		this.base = "http://127.0.0.1:" + port;
	}

	@AfterEach
	void stop() {
		this.context.close();
	}

	@Test
	void chatIsAnsweredByTheProvisionedInstanceFirst() throws Exception {
		HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(URI.create(this.base + "/api/chat"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("{\"message\":\"hello\"}"))
			.timeout(Duration.ofSeconds(20))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("Hello from ptu!");
	}

	@Test
	void streamIsBalancedToo() throws Exception {
		HttpResponse<String> response = this.http.send(
				HttpRequest.newBuilder(URI.create(this.base + "/api/chat/stream?message=hello"))
					.timeout(Duration.ofSeconds(20))
					.build(),
				HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body().replace("data:", "").replace("\n", "")).contains("ptu");
	}

	@Test
	void embeddingsAreAnsweredAndEachDeploymentIsListedUnderItsInstance() throws Exception {
		HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(URI.create(this.base + "/api/embeddings"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"hello\"}"))
			.timeout(Duration.ofSeconds(20))
			.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("\"dimensions\":8");
		String backends = this.http.send(HttpRequest.newBuilder(URI.create(this.base + "/api/backends")).build(),
				HttpResponse.BodyHandlers.ofString()).body();
		assertThat(backends).contains("\"model\":\"text-embedding-3-small\",\"name\":\"emb-small-eastus\"")
			.contains("\"model\":\"gpt-4o-mini\",\"name\":\"gpt-4o-mini-frc\"")
			.doesNotContain("emb-small-frc");
	}

	@Test
	void aMixedBurstThrottlesOnlyTheProvisionedChatDeployment() throws Exception {
		BurstRunner.Report report = this.context.getBean(BurstRunner.class).fire(60, 25);
		assertThat(report.failed()).isZero();
		assertThat(report.embedded()).isEqualTo(15);
		// chat: 30 a minute on ptu, the rest spilled over; embeddings had their own budget there
		assertThat(report.servedBy().get("ptu")).isEqualTo(30);
		io.github.openailb.core.Backend ptu = this.context.getBean(io.github.openailb.core.LoadBalancer.class)
			.backend("ptu");
		// spent: either a 429 started its cool-down, or its quota report (0 requests left) keeps chat off it
		io.github.openailb.core.Deployment chat = ptu.deployment(Boot4DemoApplication.CHAT);
		assertThat(chat.state().name().equals("COOLING_DOWN")
				|| (chat.headroom() != null && chat.headroom().remainingRequests() == 0))
			.as("chat deployment on ptu spent: %s, %s", chat.state(), chat.headroom())
			.isTrue();
		assertThat(ptu.deployment(Boot4DemoApplication.EMBEDDING).state().name()).isEqualTo("AVAILABLE");
		assertThat(ptu.state().name()).isEqualTo("AVAILABLE");
	}

	@Test
	void aBurstSpillsOverFromTheProvisionedInstanceWithoutFailing() throws Exception {
		BurstRunner.Report report = this.context.getBean(BurstRunner.class).fire(45);
		assertThat(report.failed()).isZero();
		// the provisioned instance takes 30 a minute; the rest goes to the pay-as-you-go tier
		assertThat(report.servedBy().get("ptu")).isEqualTo(30);
		assertThat(report.servedBy().getOrDefault("paygo-1", 0) + report.servedBy().getOrDefault("paygo-2", 0))
			.isEqualTo(15);
	}

}
