package io.github.openailb.springai;

import java.time.Duration;
import java.util.List;

import com.azure.core.exception.HttpResponseException;
import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.ai.azure.openai.AzureOpenAiChatModel;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.util.StringUtils;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Spring AI's {@link AzureOpenAiChatModel}, built by its own auto-configuration, sends through the
 * balancer: real Azure SDK, real HTTP to loopback backends.
 */
@ExtendWith(OutputCaptureExtension.class)
class AzureOpenAiChatModelBalancingTests {

	private static final String CHAT_PATH = "/openai/deployments/gpt-4o/chat/completions";

	private final ChatBackends backends = new ChatBackends();

	private WireMockServer a;

	private WireMockServer b;

	@AfterEach
	void close() {
		this.backends.close();
	}

	private ChatClient start(String... extra) {
		return startWithFirstAt(null, extra);
	}

	private ChatClient startWithFirstAt(String firstUrl, String... extra) {
		this.a = this.backends.start();
		this.b = this.backends.start();
		List<String> args = new java.util.ArrayList<>(List.of("--openai.lb.backends[0].name=a",
				"--openai.lb.backends[0].url=" + ((firstUrl != null) ? firstUrl : this.a.baseUrl()), "--openai.lb.backends[0].api-key=key-a",
				"--openai.lb.backends[1].name=b", "--openai.lb.backends[1].url=" + this.b.baseUrl(),
				"--openai.lb.backends[1].api-key=key-b", "--openai.lb.backends[1].priority=2"));
		args.addAll(List.of(extra));
		ConfigurableApplicationContext context = this.backends.run(args.toArray(String[]::new));
		return ChatClient.create(context.getBean(AzureOpenAiChatModel.class));
	}

	@Test
	void callGoesToTheHighestPriorityWithItsOwnKey() {
		ChatClient chat = start("--spring.ai.azure.openai.api-key=user-key");
		this.a.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-a"))));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-a");
		this.a.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)).withHeader("api-key", equalTo("key-a"))
			.withHeader("Authorization", absent()));
		assertThat(this.a.getAllServeEvents()).allSatisfy(
				(event) -> assertThat(event.getRequest().getHeaders().all().toString()).doesNotContain("user-key"));
		assertThat(this.b.getAllServeEvents()).isEmpty();
	}

	@Test
	void anEndpointOfTheUsersOwnIsBalancedAnywayAndSaidSoOnce(CapturedOutput output) {
		WireMockServer own = this.backends.start();
		ChatClient chat = start("--spring.ai.azure.openai.endpoint=" + own.baseUrl());
		this.a.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-a"))));
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-a");
		this.a.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)));
		assertThat(own.getAllServeEvents()).isEmpty();
		assertThat(StringUtils.countOccurrencesOf(output.getAll(), "spring.ai.azure.openai.endpoint is not used"))
			.isEqualTo(1);
	}

	@Test
	void callFailsOverOn429WithinOneCallAndRewritesTheDeployment() {
		ChatClient chat = start("--openai.lb.backends[1].deployment=gpt-4o-b");
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-b");
		this.b.verify(postRequestedFor(urlPathEqualTo("/openai/deployments/gpt-4o-b/chat/completions"))
			.withHeader("api-key", equalTo("key-b")));
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		// a is cooling down: the next call goes straight to b
		assertThat(chat.prompt("again").call().content()).isEqualTo("from-b");
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(2);
	}

	@Test
	void streamFailsOverBeforeTheFirstEvent() {
		ChatClient chat = start();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(503)));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200)
			.withHeader("Content-Type", "text/event-stream")
			.withBody(ChatBackends.stream("Hel", "lo"))));
		List<String> parts = chat.prompt("hi").stream().content().collectList().block(Duration.ofSeconds(20));
		assertThat(String.join("", parts)).isEqualTo("Hello");
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void streamCutMidwayIsReportedAsAnError() throws Exception {
		String breaking = this.backends.startBreakingStream(ChatBackends.chunk("Hel"));
		ChatClient chat = startWithFirstAt(breaking);
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		// the 200 and its first event arrived, so the break is an error, not a failover
		assertThatExceptionOfType(RuntimeException.class)
			.isThrownBy(() -> chat.prompt("hi").stream().content().blockLast(Duration.ofSeconds(20)))
			.withRootCauseInstanceOf(reactor.netty.http.client.PrematureCloseException.class);
		// not replayed elsewhere
		assertThat(this.b.getAllServeEvents()).isEmpty();
	}

	@Test
	void allThrottledSurfacesAs429WithRetryAfterAtOnce() {
		ChatClient chat = start();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "20")));
		// a retrying SDK would sleep Retry-After (20 s) before its next try
		HttpResponseException ex = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> catchHttpResponseException(() -> chat.prompt("hi").call().content()));
		assertThat(ex.getResponse().getStatusCode()).isEqualTo(429);
		assertThat(Long.parseLong(ex.getResponse().getHeaderValue("Retry-After"))).isBetween(1L, 20L);
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
		HttpResponseException streamed = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> catchHttpResponseException(
						() -> chat.prompt("hi").stream().content().blockLast(Duration.ofSeconds(10))));
		assertThat(streamed.getResponse().getStatusCode()).isEqualTo(429);
		// both cooling down: no backend was called again
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void everyBreakerOpenSurfacesAs503NotAs429() {
		ChatClient chat = start();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		// the default breakers open at 50% failures over at least 10 calls
		for (int i = 0; i < 10; i++) {
			assertThat(catchHttpResponseException(() -> chat.prompt("hi").call().content()).getResponse()
				.getStatusCode()).isEqualTo(500);
		}
		HttpResponseException ex = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> catchHttpResponseException(() -> chat.prompt("hi").call().content()));
		assertThat(ex.getResponse().getStatusCode()).isEqualTo(503);
		assertThat(ex.getResponse().getHeaderValue("x-openai-lb")).isEqualTo("unavailable");
		assertThat(Long.parseLong(ex.getResponse().getHeaderValue("Retry-After"))).isBetween(1L, 30L);
		assertThat(this.a.getAllServeEvents()).hasSize(10);
		assertThat(this.b.getAllServeEvents()).hasSize(10);
	}

	static HttpResponseException catchHttpResponseException(Runnable call) {
		try {
			call.run();
		}
		catch (RuntimeException ex) {
			Throwable cause = ex;
			while (cause != null) {
				if (cause instanceof HttpResponseException found) {
					return found;
				}
				cause = cause.getCause();
			}
			throw ex;
		}
		throw new AssertionError("no exception");
	}

}
