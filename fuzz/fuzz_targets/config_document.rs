//! The configuration file of `env apply` (TOML and JSON): parsed or refused with a reason; a parsed
//! one renders, reads back the same, and plans nothing against itself.
#![no_main]

use airlock::promotion::{EnvConfig, Format, plan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, &str)| {
    let (json, text) = input;
    let format = if json { Format::Json } else { Format::Toml };
    if let Ok(config) = EnvConfig::parse(text, format) {
        assert!(plan(&config, &config).is_empty());
        if let Ok(rendered) = config.render(format) {
            assert_eq!(EnvConfig::parse(&rendered, format), Ok(config));
        }
    }
});
