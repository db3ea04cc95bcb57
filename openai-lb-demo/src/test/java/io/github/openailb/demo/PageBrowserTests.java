package io.github.openailb.demo;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The page in headless Chromium: a burst makes the PTU's chat deployment throttle and failovers
 * appear.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PageBrowserTests {

	private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

	private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

	@LocalServerPort
	int port;

	@Test
	void burstShowsFailoversFromThePtu(@TempDir Path profile) {
		boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
		// in CI the browser must be there: a missing one fails the test instead of skipping it
		Assumptions.assumeTrue(installed || System.getenv("CI") != null, "Chromium is not installed");
		// explicit paths keep Selenium Manager from downloading a browser or a driver
		System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER.toString());
		ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
			.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
					"--disable-background-networking", "--disable-component-update", "--disable-sync",
					"--disable-dev-shm-usage", "--window-size=1200,900", "--user-data-dir=" + profile);
		ChromeDriverService service = new ChromeDriverService.Builder()
			.usingDriverExecutable(new File(CHROMEDRIVER.toString()))
			.usingAnyFreePort()
			.build();
		ChromeDriver browser = new ChromeDriver(service, options);
		try {
			browser.get("http://localhost:" + this.port + "/");
			WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
			wait.until((driver) -> driver.findElements(By.cssSelector(".card[data-backend]")).size() == 3);
			browser.findElement(By.id("burst")).click();
			// the page redraws its cards twice a second: read every fact afresh, inside the wait
			wait.ignoring(StaleElementReferenceException.class).until((driver) -> spilledOver(driver));
			String report = wait.until((driver) -> {
				String text = driver.findElement(By.id("burst-result")).getText();
				return text.contains("answered") ? text : null;
			});
			assertThat(report).contains("paygo-1").contains("paygo-2");
		}
		finally {
			browser.quit();
		}
	}

	/**
	 * The PTU has failed over and its chat deployment is cooling down (its embeddings deployment
	 * and the instance itself are not), and the pay-as-you-go tier answered.
	 */
	private static boolean spilledOver(WebDriver driver) {
		WebElement ptu = driver.findElement(By.cssSelector(".card[data-backend='ptu']"));
		boolean failedOver = Long.parseLong(ptu.findElement(By.className("failovers")).getText()) > 0;
		WebElement chat = ptu.findElement(By.cssSelector(".deployment[data-model='gpt-4o-mini']"));
		WebElement embeddings = ptu.findElement(By.cssSelector(".deployment[data-model='text-embedding-3-small']"));
		boolean coolingDown = chat.getAttribute("class").contains("COOLING_DOWN")
				&& chat.findElement(By.className("dstate")).getText().startsWith("cooling down")
				&& embeddings.getAttribute("class").contains("AVAILABLE")
				&& ptu.getAttribute("class").contains("AVAILABLE");
		long spilled = driver.findElements(By.cssSelector(".card[data-backend^='paygo'] .successes"))
			.stream()
			.mapToLong((element) -> Long.parseLong(element.getText()))
			.sum();
		return failedOver && coolingDown && spilled > 0;
	}

}
