//! Settings: a page of its own for each section, joined by tabs; each domain renders its own
//! sections inside `SettingsFrame` (the pages that join several live in `routes::settings`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::frame::{Area, Guard};
use crate::i18n::{t, td_string, use_i18n, Locale};

/// The sections of Settings, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Organisation,
    Packages,
    Content,
    Carriers,
    Alarms,
    OptOuts,
    Limits,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Organisation,
        Section::Packages,
        Section::Content,
        Section::Carriers,
        Section::Alarms,
        Section::OptOuts,
        Section::Limits,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Section::Organisation => "/settings",
            Section::Packages => "/settings/packages",
            Section::Content => "/settings/content",
            Section::Carriers => "/settings/carriers",
            Section::Alarms => "/settings/alarms",
            Section::OptOuts => "/settings/opt-outs",
            Section::Limits => "/settings/limits",
        }
    }

    /// The section's tab, in `locale`.
    pub fn label(self, locale: Locale) -> &'static str {
        match self {
            Section::Organisation => td_string!(locale, settings.tab_organisation),
            Section::Packages => td_string!(locale, settings.tab_packages),
            Section::Content => td_string!(locale, settings.tab_content),
            Section::Carriers => td_string!(locale, settings.tab_carriers),
            Section::Alarms => td_string!(locale, settings.tab_alarms),
            Section::OptOuts => td_string!(locale, settings.tab_opt_outs),
            Section::Limits => td_string!(locale, settings.tab_limits),
        }
    }
}

/// The tabs between the sections: plain links (they work before the front end has loaded), the
/// current one marked `aria-current`, also on the pages below it (an application's limits).
#[component]
pub fn SettingsTabs() -> impl IntoView {
    let i18n = use_i18n();
    let tabs = Section::ALL
        .into_iter()
        .map(|section| {
            // Every other section's address starts with the organisation's.
            let exact = section == Section::Organisation;
            view! {
                <li>
                    <A href=section.path() exact>{move || section.label(i18n.get_locale())}</A>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="tabs" aria-label=move || td_string!(i18n.get_locale(), settings.sections)>
            <ul>{tabs}</ul>
        </nav>
    }
}

/// A settings page: for admins, under the Settings heading and its tabs.
#[component]
pub fn SettingsFrame(section: Section, children: ChildrenFn) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=move || {
            let locale = i18n.get_locale();
            format!("{} · {}", section.label(locale), td_string!(locale, settings.title))
        }/>
        <Guard area=Area::Settings>
            <section class="page">
                <h1>{t!(i18n, settings.title)}</h1>
                <SettingsTabs/>
                {children()}
            </section>
        </Guard>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_has_an_address_of_its_own_under_settings() {
        let paths: std::collections::HashSet<_> = Section::ALL.map(Section::path).into();
        assert_eq!(paths.len(), Section::ALL.len());
        assert!(paths.iter().all(|p| p.starts_with(Area::Settings.path())));
    }
}
