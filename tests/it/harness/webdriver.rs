//! A real browser: Debian's headless Chromium driven through its ChromeDriver (WebDriver) with
//! `fantoccini`. Missing, the browser tests say loudly that they were skipped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Chrome {
    pub client: Client,
    driver: Child,
    /// Where screenshots go: the test's temporary directory.
    shots: PathBuf,
}

impl Chrome {
    /// Starts ChromeDriver and a headless Chromium session; `None` when they are not installed.
    pub async fn start(shots: &Path) -> Option<Chrome> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            // CI sets this once it has installed them: then a missing browser is a failure.
            assert!(
                std::env::var_os("AIRLOCK_REQUIRE_BROWSER").is_none(),
                "AIRLOCK_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing"
            );
            eprintln!(
                "SKIPPED: browser test: {CHROMIUM} and {CHROMEDRIVER} are not installed \
                 (apt-get install chromium chromium-driver; .ci/run installs them)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        // Two TLS back ends are linked into the tests; the WebDriver client needs one chosen.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,900"],
            }),
        );
        let mut last_error = String::new();
        for _ in 0..100 {
            let connected = ClientBuilder::rustls()
                .expect("webdriver client")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match connected {
                Ok(client) => {
                    return Some(Chrome {
                        client,
                        driver,
                        shots: shots.to_path_buf(),
                    });
                }
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a session: {last_error}");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// The element's text; found again while a navigation replaces the page under it.
    pub async fn text(&self, css: &str) -> String {
        let mut last_error = String::new();
        for _ in 0..100 {
            match self.element(css).await {
                Ok(element) => match element.text().await {
                    Ok(text) => return text,
                    Err(error) => last_error = error.to_string(),
                },
                Err(error) => last_error = error,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css}: {last_error} on {}", self.page_text().await)
    }

    /// Where the browser is and what it shows, for a failure's message.
    async fn page_text(&self) -> String {
        let url = self.client.current_url().await.map(|url| url.to_string());
        let body = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        format!("{url:?}:\n{body}")
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.expect("find") {
            texts.push(element.text().await.expect("text"));
        }
        texts
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .is_empty()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = match self.element(css).await {
            Ok(field) => field,
            Err(error) => panic!("{css}: {error} on {}", self.page_text().await),
        };
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        match self.element(css).await {
            Ok(element) => element.click().await.expect("click"),
            Err(error) => panic!("{css}: {error} on {}", self.page_text().await),
        }
    }

    /// The element, once the page shows it (a click's navigation may still be under way).
    async fn element(&self, css: &str) -> Result<fantoccini::elements::Element, String> {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .map_err(|error| error.to_string())
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        url.path().to_string()
    }

    /// Waits until the browser's URL has exactly this path.
    pub async fn at(&self, path: &str) {
        self.url_where(|url| url.path() == path, path).await;
    }

    /// Waits until the browser's URL contains `fragment`.
    pub async fn url_has(&self, fragment: &str) {
        self.url_where(|url| url.as_str().contains(fragment), fragment)
            .await;
    }

    async fn url_where(&self, wanted: impl Fn(&url::Url) -> bool, what: &str) {
        for _ in 0..200 {
            if let Ok(url) = self.client.current_url().await
                && wanted(&url)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never reached {what}: {}", self.page_text().await);
    }

    /// Saves the page as `name.png` in the test's directory; its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    pub async fn finish(self) {
        self.client.clone().close().await.ok();
    }
}

/// ChromeDriver (and its browser) go with the test, however it ends.
impl Drop for Chrome {
    fn drop(&mut self) {
        self.driver.kill().ok();
        self.driver.wait().ok();
    }
}
