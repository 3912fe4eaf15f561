//! The settings pages whose sections come from several domains.

use leptos::prelude::*;

use crate::accounts::settings::{Section, SettingsFrame};

#[component]
pub fn PackagesSettingsPage() -> impl IntoView {
    view! {
        <SettingsFrame section=Section::Packages>
            <crate::balance::pages::BalanceSection/>
        </SettingsFrame>
    }
}

/// What marketing messages must say and when they may go out.
#[component]
pub fn ContentSettingsPage() -> impl IntoView {
    view! {
        <SettingsFrame section=Section::Content>
            <crate::templates::pages::UnsubscribePhrasesSection/>
            <crate::campaigns::pages::bulk::MarketingWindowSection/>
        </SettingsFrame>
    }
}

#[component]
pub fn CarriersSettingsPage() -> impl IntoView {
    view! {
        <SettingsFrame section=Section::Carriers>
            <crate::carriers::pages::CarriersSection/>
        </SettingsFrame>
    }
}

/// Alarm contacts, their webhooks' deliveries and the SMS alerts.
#[component]
pub fn AlarmsSettingsPage() -> impl IntoView {
    view! {
        <SettingsFrame section=Section::Alarms>
            <crate::alerts::pages::AlarmContactsSection/>
        </SettingsFrame>
    }
}
