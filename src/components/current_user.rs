//! The signed-in user, loaded by the app root and shared through context,
//! so a page and its frame never ask the server twice. It is read again
//! when the browser opens another console page (that is also how a session
//! ended elsewhere is noticed: the next page finds nobody signed in), and
//! not at all on the sign-in pages.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::api::auth::current_user;
use crate::model::{AppError, Role, User};
use crate::pages::paths;

/// What the root knows: whether it asked the server (it does not on the
/// sign-in pages) and the answer.
type Loaded = (bool, Result<Option<User>, AppError>);

#[derive(Clone, Copy)]
pub struct CurrentUser(Resource<Loaded>);

impl CurrentUser {
    /// The user, once loaded; `None` while loading or when signed out.
    pub fn get(&self) -> Option<User> {
        self.0.get().and_then(|(_, r)| r.ok()).flatten()
    }

    /// True once the server, asked for a console page, said nobody is
    /// signed in. (Not the placeholder of the sign-in pages, which is still
    /// the value for a moment after signing in.)
    pub fn signed_out(&self) -> bool {
        matches!(self.0.get(), Some((true, Ok(None))))
    }

    /// The user's role (`User` until known: the least it could be).
    pub fn role(&self) -> Role {
        self.get().map(|u| u.role).unwrap_or(Role::User)
    }

    /// Read the user inside `<Suspense>`/`<Transition>` so server rendering
    /// waits for it, e.g. `Suspend::new(async move { user.user().await })`.
    pub async fn user(&self) -> Option<User> {
        self.0.await.1.ok().flatten()
    }
}

/// Loads the current user for the pages under it. Must sit inside the router.
#[component]
pub fn CurrentUserProvider(children: Children) -> impl IntoView {
    let location = use_location();
    // The page path keys the load: one read per console page, none on the
    // sign-in and registration pages.
    let console_path = Memo::new(move |_| {
        let path = location.pathname.get();
        paths::is_console(&path).then_some(path)
    });
    let user = Resource::new(
        move || console_path.get(),
        |path| async move {
            match path {
                Some(_) => (true, current_user().await),
                None => (false, Ok(None)),
            }
        },
    );
    provide_context(CurrentUser(user));
    children()
}

/// The current user from the app root.
pub fn use_current_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}
