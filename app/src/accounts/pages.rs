//! Set-up, sign-in, dashboard, own account, users and organisation settings.

use leptos::prelude::*;
use leptos_meta::Title;

use super::api::{
    get_organisation, list_users, ChangePassword, CreateUser, ResetUserPassword, SetUserDisabled,
    UpdateOrganisation, UpdateUserRoles,
};
use super::frame::{role_words, Area, Guard};
use super::model::{AccountType, Organisation, Role, SessionState, UserRow};
use super::settings::{Section, SettingsFrame};
use crate::accounts::frame::Auth;
use crate::forms::{action_error, action_succeeded, error_view, Field, FieldMessage, FormAlert};
use crate::i18n::{t, td_string, use_i18n};

/// Pages outside the console frame send a user who does not belong there to where they do.
#[component]
fn OnlyWhen(state: fn(&SessionState) -> bool, children: ChildrenFn) -> impl IntoView {
    crate::accounts::frame::for_session(state, move |_| children().into_any())
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let error = action_error(auth.set_up);
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), accounts.setup_title)/>
        <OnlyWhen state=|s| matches!(s, SessionState::NeedsSetup)>
            <main class="card-page">
                <section class="card">
                    <crate::accounts::frame::LanguageSwitch/>
                    <h1>{t!(i18n, accounts.welcome)}</h1>
                    <p class="muted">{t!(i18n, accounts.setup_intro)}</p>
                    <ActionForm action=auth.set_up>
                        <FormAlert error/>
                        <fieldset>
                            <legend>{t!(i18n, accounts.organisation_legend)}</legend>
                            <Field label=move || td_string!(i18n.get_locale(), accounts.org_name) name="org_name" error/>
                            <div class="field">
                                <span class="label">{t!(i18n, accounts.account_type)}</span>
                                <label class="choice">
                                    <input type="radio" name="account_type" value="organisation" checked/>
                                    {t!(i18n, accounts.organisation)}
                                </label>
                                <label class="choice">
                                    <input type="radio" name="account_type" value="individual"/>
                                    {t!(i18n, accounts.individual)}
                                </label>
                                <FieldMessage error name="account_type"/>
                            </div>
                            <label class="choice">
                                <input type="checkbox" name="verified"/>
                                {t!(i18n, accounts.verified_choice)}
                            </label>
                        </fieldset>
                        <fieldset>
                            <legend>{t!(i18n, accounts.first_admin)}</legend>
                            <Field label=move || td_string!(i18n.get_locale(), accounts.email) name="email" kind="email" autocomplete="username" error/>
                            <Field label=move || td_string!(i18n.get_locale(), accounts.name) name="display_name" autocomplete="name" error/>
                            <Field
                                label=move || td_string!(i18n.get_locale(), accounts.password)
                                name="password"
                                kind="password"
                                autocomplete="new-password"
                                hint=move || td_string!(i18n.get_locale(), accounts.password_hint)
                                error
                            />
                            <Field
                                label=move || td_string!(i18n.get_locale(), accounts.repeat_password)
                                name="password_confirm"
                                kind="password"
                                autocomplete="new-password"
                                error
                            />
                        </fieldset>
                        <button type="submit" class="primary">{t!(i18n, accounts.create_organisation)}</button>
                    </ActionForm>
                </section>
            </main>
        </OnlyWhen>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let error = action_error(auth.log_in);
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), login.title)/>
        <OnlyWhen state=|s| matches!(s, SessionState::SignedOut)>
            <main class="card-page">
                <section class="card narrow">
                    <crate::accounts::frame::LanguageSwitch/>
                    <h1>{t!(i18n, login.heading)}</h1>
                    <ActionForm action=auth.log_in>
                        <FormAlert error/>
                        <Field label=move || td_string!(i18n.get_locale(), login.email) name="email" kind="email" autocomplete="username" error/>
                        <Field label=move || td_string!(i18n.get_locale(), login.password) name="password" kind="password" autocomplete="current-password" error/>
                        <button type="submit" class="primary">{t!(i18n, login.submit)}</button>
                    </ActionForm>
                </section>
            </main>
        </OnlyWhen>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    let error = action_error(change);
    let done = action_succeeded(change);
    let i18n = use_i18n();
    view! {
        <Title text=move || td_string!(i18n.get_locale(), accounts.change_password)/>
        <section class="page">
            <h1>{t!(i18n, accounts.change_password)}</h1>
            <ActionForm action=change attr:class="form narrow">
                <FormAlert error succeeded=done success_text=move || td_string!(i18n.get_locale(), accounts.password_changed)/>
                <Field label=move || td_string!(i18n.get_locale(), accounts.current_password) name="current_password" kind="password" autocomplete="current-password" error/>
                <Field label=move || td_string!(i18n.get_locale(), accounts.new_password) name="password" kind="password" autocomplete="new-password" hint=move || td_string!(i18n.get_locale(), accounts.password_hint) error/>
                <Field label=move || td_string!(i18n.get_locale(), accounts.repeat_new_password) name="password_confirm" kind="password" autocomplete="new-password" error/>
                <button type="submit" class="primary">{t!(i18n, accounts.change_password)}</button>
            </ActionForm>
        </section>
    }
}

/// The three role checkboxes, pre-ticked with the user's current roles.
#[component]
fn RoleBoxes(#[prop(optional)] user: Option<UserRow>) -> impl IntoView {
    let i18n = use_i18n();
    Role::ALL
        .into_iter()
        .map(|role| {
            let checked = user.as_ref().is_some_and(|u| u.roles.contains(role));
            view! {
                <label class="choice" title=move || role_words(i18n.get_locale(), role).1>
                    <input type="checkbox" name=format!("role_{}", role.as_str()) checked=checked/>
                    {move || role_words(i18n.get_locale(), role).0}
                </label>
            }
        })
        .collect_view()
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update_roles = ServerAction::<UpdateUserRoles>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update_roles.version().get(),
                set_disabled.version().get(),
                reset.version().get(),
            )
        },
        |_| list_users(),
    );
    let create_error = action_error(create);
    // A created user's details must not linger in the form for the next one.
    let create_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(create.value().get(), Some(Ok(()))) {
            if let Some(form) = create_form.get() {
                form.reset();
            }
        }
    });
    let row_error = Signal::derive(move || {
        action_error(update_roles)
            .get()
            .or_else(|| action_error(set_disabled).get())
            .or_else(|| action_error(reset).get())
    });
    let i18n = use_i18n();

    view! {
        <Title text=move || td_string!(i18n.get_locale(), accounts.users)/>
        <Guard area=Area::Users>
            <section class="page">
                <h1>{t!(i18n, accounts.users)}</h1>
                <section class="panel">
                    <h2>{t!(i18n, accounts.create_user_heading)}</h2>
                    <ActionForm action=create node_ref=create_form attr:class="form">
                        <FormAlert error=create_error succeeded=action_succeeded(create) success_text=move || td_string!(i18n.get_locale(), accounts.user_created)/>
                        <Field label=move || td_string!(i18n.get_locale(), accounts.email) name="email" kind="email" autocomplete="off" error=create_error/>
                        <Field label=move || td_string!(i18n.get_locale(), accounts.name) name="display_name" autocomplete="off" error=create_error/>
                        <Field
                            label=move || td_string!(i18n.get_locale(), accounts.initial_password)
                            name="password"
                            kind="password"
                            autocomplete="new-password"
                            hint=move || td_string!(i18n.get_locale(), accounts.initial_password_hint)
                            error=create_error
                        />
                        <div class="field">
                            <span class="label">{t!(i18n, accounts.roles)}</span>
                            <RoleBoxes/>
                            <FieldMessage error=create_error name="roles"/>
                        </div>
                        <button type="submit" class="primary">{t!(i18n, accounts.create_user)}</button>
                    </ActionForm>
                </section>
                <FormAlert error=row_error/>
                <Transition fallback=move || view! { <p class="loading">{t!(i18n, accounts.loading_users)}</p> }>
                    <ErrorBoundary fallback=error_view>
                        {move || Suspend::new(async move {
                            users.await.map(|data| {
                                let issued = data.issued_password.map(|issued| view! {
                                    <div class="alert alert-ok" role="status">
                                        {t!(i18n, accounts.issued_prefix)} <strong>{issued.email}</strong> {t!(i18n, accounts.issued_middle)}
                                        <code class="secret">{issued.password}</code>
                                        {t!(i18n, accounts.issued_suffix)}
                                    </div>
                                });
                                let rows = data
                                    .users
                                    .into_iter()
                                    .map(|user| view! { <UserRowView user update_roles set_disabled reset/> })
                                    .collect_view();
                                view! {
                                    {issued}
                                    <div class="table-wrap">
                                        <table class="data">
                                            <thead>
                                                <tr>
                                                    <th>{t!(i18n, accounts.user)}</th>
                                                    <th>{t!(i18n, accounts.roles)}</th>
                                                    <th>{t!(i18n, accounts.status)}</th>
                                                    <th>{t!(i18n, accounts.actions)}</th>
                                                </tr>
                                            </thead>
                                            <tbody>{rows}</tbody>
                                        </table>
                                    </div>
                                }
                            })
                        })}
                    </ErrorBoundary>
                </Transition>
            </section>
        </Guard>
    }
}

#[component]
fn UserRowView(
    user: UserRow,
    update_roles: ServerAction<UpdateUserRoles>,
    set_disabled: ServerAction<SetUserDisabled>,
    reset: ServerAction<ResetUserPassword>,
) -> impl IntoView {
    let id = user.id.to_string();
    let (id_for_disable, id_for_reset) = (id.clone(), id.clone());
    let disabled = user.disabled;
    let (email, email_attr) = (user.email.clone(), user.email.clone());
    let display_name = user.display_name.clone();
    let i18n = use_i18n();
    view! {
        <tr class:disabled=disabled data-email=email_attr>
            <td>
                <strong>{display_name}</strong>
                <br/>
                <span class="muted">{email}</span>
            </td>
            <td>
                <ActionForm action=update_roles attr:class="inline">
                    <input type="hidden" name="user_id" value=id/>
                    <RoleBoxes user/>
                    <button type="submit">{t!(i18n, accounts.save_roles)}</button>
                </ActionForm>
            </td>
            <td>{move || if disabled {
                td_string!(i18n.get_locale(), accounts.disabled)
            } else {
                td_string!(i18n.get_locale(), accounts.active)
            }}</td>
            <td class="actions">
                <ActionForm action=set_disabled attr:class="inline">
                    <input type="hidden" name="user_id" value=id_for_disable/>
                    <input type="hidden" name="disabled" value=(!disabled).to_string()/>
                    <button type="submit">{move || if disabled {
                        td_string!(i18n.get_locale(), accounts.enable)
                    } else {
                        td_string!(i18n.get_locale(), accounts.disable)
                    }}</button>
                </ActionForm>
                <ActionForm action=reset attr:class="inline">
                    <input type="hidden" name="user_id" value=id_for_reset/>
                    <button type="submit">{t!(i18n, accounts.reset_password)}</button>
                </ActionForm>
            </td>
        </tr>
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let update = ServerAction::<UpdateOrganisation>::new();
    let organisation = Resource::new(move || update.version().get(), |_| get_organisation());
    let error = action_error(update);
    let i18n = use_i18n();
    view! {
        <SettingsFrame section=Section::Organisation>
            <h2>{t!(i18n, accounts.organisation_legend)}</h2>
            <Transition fallback=|| ()>
                <ErrorBoundary fallback=error_view>
                    {move || Suspend::new(async move {
                        organisation.await.map(|org: Organisation| {
                            let account_type = org.account_type;
                            let is = move |t: AccountType| account_type == t;
                            view! {
                                <ActionForm action=update attr:class="form narrow">
                                    <FormAlert error succeeded=action_succeeded(update) success_text=move || td_string!(i18n.get_locale(), settings.saved)/>
                                    <Field label=move || td_string!(i18n.get_locale(), accounts.org_name) name="org_name" value=org.name.clone() error/>
                                    <div class="field">
                                        <span class="label">{t!(i18n, accounts.account_type)}</span>
                                        <label class="choice">
                                            <input type="radio" name="account_type" value="organisation" checked=is(AccountType::Organisation)/>
                                            {t!(i18n, accounts.organisation)}
                                        </label>
                                        <label class="choice">
                                            <input type="radio" name="account_type" value="individual" checked=is(AccountType::Individual)/>
                                            {t!(i18n, accounts.individual)}
                                        </label>
                                        <FieldMessage error name="account_type"/>
                                    </div>
                                    <label class="choice">
                                        <input type="checkbox" name="verified" checked=org.verified/>
                                        {t!(i18n, accounts.verified_choice)}
                                    </label>
                                    <button type="submit" class="primary">{t!(i18n, settings.save)}</button>
                                </ActionForm>
                            }
                        })
                    })}
                </ErrorBoundary>
            </Transition>
        </SettingsFrame>
    }
}
