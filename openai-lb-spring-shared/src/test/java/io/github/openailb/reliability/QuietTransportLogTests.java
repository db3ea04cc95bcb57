package io.github.openailb.reliability;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.testsupport.LoopbackBackends;
import io.github.openailb.transport.BalancingClientHttpConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.client.reactive.ClientHttpResponse;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole application's log while the balancer handles connection resets: the failover costs no
 * INFO line and no WARN with a stack trace from Reactor Netty, unless the user asks for it.
 */
class QuietTransportLogTests {

	private static final String CONNECT_LOGGER = "reactor.netty.http.client.HttpClientConnect";

	@RegisterExtension
	final LoopbackBackends backends = new LoopbackBackends();

	private final Logger reactorNetty = (Logger) LoggerFactory.getLogger("reactor.netty");

	private final Level reactorNettyLevel = this.reactorNetty.getLevel();

	private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

	private ConfigurableApplicationContext context;

	@AfterEach
	void close() {
		((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(this.logged);
		this.reactorNetty.setLevel(this.reactorNettyLevel);
		if (this.context != null) {
			this.context.close();
		}
	}

	@Test
	void handledResetsLeaveNoWarningAndFailoversNoInfoLine() {
		BalancingClientHttpConnector connector = start();
		// as in an application without this project's test logging configuration
		this.reactorNetty.setLevel(Level.INFO);
		for (int i = 0; i < 3; i++) {
			assertThat(call(connector)).isEqualTo(200);
		}
		assertThat(this.logged.list).noneMatch((event) -> event.getLoggerName().equals(CONNECT_LOGGER));
		// a reset is no change of the backend's state: nothing at INFO either
		assertThat(this.logged.list).noneMatch((event) -> event.getLoggerName().startsWith("io.github.openailb")
				&& event.getLevel().isGreaterOrEqual(Level.INFO));
	}

	@Test
	void theUsersOwnLevelForReactorNettyWins() {
		BalancingClientHttpConnector connector = start("--logging.level.reactor.netty=WARN");
		assertThat(call(connector)).isEqualTo(200);
		// the logger the default is about is the one that warns of each handled reset
		assertThat(this.logged.list).anySatisfy((event) -> {
			assertThat(event.getLoggerName()).isEqualTo(CONNECT_LOGGER);
			assertThat(event.getLevel()).isEqualTo(Level.WARN);
			assertThat(event.getFormattedMessage()).contains("The connection observed an error");
		});
	}

	/** An application over a backend that resets every connection, then a healthy one. */
	private BalancingClientHttpConnector start(String... extra) {
		WireMockServer resetting = this.backends.start();
		resetting.stubFor(post(anyUrl()).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
		WireMockServer healthy = this.backends.start();
		healthy.stubFor(post(anyUrl()).willReturn(okJson("{}")));
		List<String> args = new ArrayList<>(List.of(BalancedApp.backend(0, "resetting", resetting.baseUrl(), 1)));
		args.addAll(List.of(BalancedApp.backend(1, "healthy", healthy.baseUrl(), 2)));
		args.replaceAll((property) -> "--" + property);
		args.addAll(List.of(extra));
		this.context = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.run(args.toArray(String[]::new));
		assertThat(this.context.getEnvironment().getProperty("logging.level." + CONNECT_LOGGER))
			.isEqualTo((extra.length == 0) ? "ERROR" : null);
		// after start-up, which configures logging afresh
		this.logged.start();
		((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(this.logged);
		return this.context.getBean("openAiLbConnector", BalancingClientHttpConnector.class);
	}

	private static int call(BalancingClientHttpConnector connector) {
		ClientHttpResponse response = connector
			.exchange(HttpMethod.POST, BalancedApp.CHAT, new HttpHeaders(), "{}".getBytes(StandardCharsets.UTF_8))
			.block(Duration.ofSeconds(10));
		response.getBody().subscribe(org.springframework.core.io.buffer.DataBufferUtils::release);
		return response.getStatusCode().value();
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration(OpenAiLbAutoConfiguration.class)
	static class App {

	}

}
