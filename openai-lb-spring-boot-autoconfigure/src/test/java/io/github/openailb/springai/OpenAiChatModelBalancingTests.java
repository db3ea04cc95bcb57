package io.github.openailb.springai;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbClientsAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbSpringAiAutoConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.ai.azure.openai.AzureOpenAiChatModel;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.model.openai.autoconfigure.OpenAiChatAutoConfiguration;
import org.springframework.ai.model.tool.autoconfigure.ToolCallingAutoConfiguration;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.retry.autoconfigure.SpringAiRetryAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.autoconfigure.web.client.RestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.WebClientAutoConfiguration;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.reactive.function.client.WebClientResponseException;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Spring AI's {@link OpenAiChatModel}, built by its own auto-configuration from the application's
 * {@code RestClient.Builder} ({@code call()}) and {@code WebClient.Builder} ({@code stream()}),
 * sends through the balancer to {@code /v1/chat/completions}-shaped backends.
 */
@ExtendWith(OutputCaptureExtension.class)
class OpenAiChatModelBalancingTests {

	private static final String CHAT_PATH = "/v1/chat/completions";

	private final ChatBackends backends = new ChatBackends();

	private WireMockServer a;

	private WireMockServer b;

	@AfterEach
	void close() {
		this.backends.close();
	}

	private List<String> backendArgs() {
		this.a = this.backends.start();
		this.b = this.backends.start();
		return new ArrayList<>(List.of("--openai.lb.backends[0].name=a", "--openai.lb.backends[0].url=" + this.a.baseUrl(),
				"--openai.lb.backends[0].api-key=key-a", "--openai.lb.backends[0].key-style=bearer",
				"--openai.lb.backends[1].name=b", "--openai.lb.backends[1].url=" + this.b.baseUrl(),
				"--openai.lb.backends[1].api-key=key-b", "--openai.lb.backends[1].key-style=bearer",
				"--openai.lb.backends[1].priority=2"));
	}

	private ChatClient start(String... extra) {
		List<String> args = backendArgs();
		args.addAll(List.of(extra));
		ConfigurableApplicationContext context = this.backends.run(args.toArray(String[]::new));
		return ChatClient.create(context.getBean(OpenAiChatModel.class));
	}

	@Test
	void callGoesToTheHighestPriorityWithItsOwnKey() {
		ChatClient chat = start("--spring.ai.openai.api-key=user-key");
		this.a.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-a"))));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-a");
		this.a.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)).withHeader("Authorization", equalTo("Bearer key-a")));
		assertThat(this.a.getAllServeEvents()).allSatisfy(
				(event) -> assertThat(event.getRequest().getHeaders().all().toString()).doesNotContain("user-key"));
		assertThat(this.b.getAllServeEvents()).isEmpty();
	}

	@Test
	void callFailsOverOn429WithinOneCallAndRewritesTheModel() {
		ChatClient chat = start("--openai.lb.backends[1].deployment=model-b");
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		assertThat(chat.prompt("hi").call().content()).isEqualTo("from-b");
		this.b.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)).withHeader("Authorization", equalTo("Bearer key-b"))
			.withRequestBody(matchingJsonPath("$.model", equalTo("model-b"))));
		assertThat(this.a.getAllServeEvents()).hasSize(1);
	}

	@Test
	void streamFailsOverBeforeTheFirstEvent() {
		ChatClient chat = start();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(200)
			.withHeader("Content-Type", "text/event-stream")
			.withBody(ChatBackends.stream("Hel", "lo"))));
		List<String> parts = chat.prompt("hi").stream().content().collectList().block(Duration.ofSeconds(20));
		assertThat(String.join("", parts)).isEqualTo("Hello");
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void allThrottledSurfacesAs429WithRetryAfterAtOnce() {
		ChatClient chat = start();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "20")));
		HttpClientErrorException ex = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> org.assertj.core.api.Assertions.catchThrowableOfType(HttpClientErrorException.TooManyRequests.class,
						() -> chat.prompt("hi").call().content()));
		assertThat(ex).isNotNull();
		assertThat(ex.getStatusCode().value()).isEqualTo(429);
		assertThat(Long.parseLong(ex.getResponseHeaders().getFirst("Retry-After"))).isBetween(1L, 20L);
		WebClientResponseException streamed = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> org.assertj.core.api.Assertions.catchThrowableOfType(WebClientResponseException.class,
						() -> chat.prompt("hi").stream().content().blockLast(Duration.ofSeconds(10))));
		assertThat(streamed.getStatusCode().value()).isEqualTo(429);
		assertThat(streamed.getHeaders().getFirst("Retry-After")).isNotNull();
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void everyBreakerOpenSurfacesAs503ServiceUnavailableNotAs429() {
		ChatClient chat = start();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		// the default breakers open at 50% failures over at least 10 calls
		for (int i = 0; i < 10; i++) {
			assertThatExceptionOfType(RuntimeException.class).isThrownBy(() -> chat.prompt("hi").call().content());
		}
		HttpServerErrorException.ServiceUnavailable ex = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> org.assertj.core.api.Assertions.catchThrowableOfType(
						HttpServerErrorException.ServiceUnavailable.class, () -> chat.prompt("hi").call().content()));
		assertThat(ex).isNotNull();
		assertThat(ex.getResponseHeaders().getFirst("x-openai-lb")).isEqualTo("unavailable");
		assertThat(Long.parseLong(ex.getResponseHeaders().getFirst("Retry-After"))).isBetween(1L, 30L);
		assertThat(ex.getResponseBodyAsString()).contains("\"code\":\"service_unavailable\"");
		WebClientResponseException streamed = assertTimeoutPreemptively(Duration.ofSeconds(10),
				() -> org.assertj.core.api.Assertions.catchThrowableOfType(WebClientResponseException.class,
						() -> chat.prompt("hi").stream().content().blockLast(Duration.ofSeconds(10))));
		assertThat(streamed.getStatusCode().value()).isEqualTo(503);
		assertThat(this.a.getAllServeEvents()).hasSize(10);
		assertThat(this.b.getAllServeEvents()).hasSize(10);
	}

	@Test
	void springAiDoesNotRetryWhatTheBalancerAlreadyFailedOver() {
		ChatClient chat = start();
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(500)));
		// spring.ai.retry would otherwise call again 9 times, 2 s apart and growing
		assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThatExceptionOfType(RuntimeException.class)
			.isThrownBy(() -> chat.prompt("hi").call().content()));
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		assertThat(this.b.getAllServeEvents()).hasSize(1);
	}

	@Test
	void bothModelsShareOneBalancerState() {
		List<String> args = backendArgs();
		ConfigurableApplicationContext context = this.backends.run(args.toArray(String[]::new));
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-b"))));
		ChatClient azure = ChatClient.create(context.getBean(AzureOpenAiChatModel.class));
		assertThat(azure.prompt("hi").call().content()).isEqualTo("from-b");
		// the 429 seen through the Azure SDK cools a down for the OpenAI model too
		ChatClient openAi = ChatClient.create(context.getBean(OpenAiChatModel.class));
		assertThat(openAi.prompt("hi").call().content()).isEqualTo("from-b");
		assertThat(this.a.getAllServeEvents()).hasSize(1);
		this.b.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)));
	}

	@Test
	void callIsBalancedInAReactiveApplication() {
		backendArgs();
		this.a.stubFor(post(anyUrl()).willReturn(okJson(ChatBackends.completion("from-a"))));
		new ReactiveWebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
					OpenAiLbClientsAutoConfiguration.class, OpenAiLbSpringAiAutoConfiguration.class,
					JacksonAutoConfiguration.class, HttpMessageConvertersAutoConfiguration.class,
					RestClientAutoConfiguration.class, WebClientAutoConfiguration.class,
					SpringAiRetryAutoConfiguration.class, ToolCallingAutoConfiguration.class,
					OpenAiChatAutoConfiguration.class))
			.withPropertyValues("openai.lb.backends[0].name=a", "openai.lb.backends[0].url=" + this.a.baseUrl(),
					"openai.lb.backends[0].api-key=key-a", "openai.lb.backends[0].key-style=bearer",
					"spring.ai.openai.base-url=http://openai-lb", "spring.ai.openai.api-key=placeholder",
					"spring.ai.retry.max-attempts=1")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				ChatClient chat = ChatClient.create(context.getBean(OpenAiChatModel.class));
				assertThat(chat.prompt("hi").call().content()).isEqualTo("from-a");
				this.a.verify(postRequestedFor(urlPathEqualTo(CHAT_PATH)).withHeader("Authorization",
						equalTo("Bearer key-a")));
			});
	}


	@Test
	void aThrottlingStormCostsNoSpringAiLogLinePerRequest(CapturedOutput output) {
		ChatClient chat = start();
		throttleBoth();
		callAndStreamThrottled(chat, 3);
		assertThat(output.getAll()).doesNotContain("Aggregation Error").doesNotContain("Retry error");
	}

	@Test
	void aLevelTheUserSetForSpringAiBringsItsLinesBack(CapturedOutput output) {
		ChatClient chat = start("--logging.level.org.springframework.ai=INFO");
		throttleBoth();
		callAndStreamThrottled(chat, 1);
		assertThat(output.getAll()).contains("o.s.ai.chat.model.MessageAggregator")
			.contains("Aggregation Error")
			.contains("Retry error");
	}

	private void throttleBoth() {
		this.a.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "30")));
		this.b.stubFor(post(anyUrl()).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "20")));
	}

	/** Each caller still gets the 429: the quieted lines only repeated it. */
	private static void callAndStreamThrottled(ChatClient chat, int times) {
		for (int i = 0; i < times; i++) {
			assertThatExceptionOfType(HttpClientErrorException.TooManyRequests.class)
				.isThrownBy(() -> chat.prompt("hi").call().content());
			assertThatExceptionOfType(WebClientResponseException.TooManyRequests.class)
				.isThrownBy(() -> chat.prompt("hi").stream().content().blockLast(Duration.ofSeconds(10)));
		}
	}

}
